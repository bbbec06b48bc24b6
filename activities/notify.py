"""The outbox's Temporal adapter: a case's due notices sent, and the sweep (the outbox and
its SQL live in store.outbox, the senders in notify/)."""

from datetime import datetime

from temporalio import activity

from store.outbox import Outbox


def count_in_activity(name: str, description: str, kind: str, result: str = "") -> None:
    """A delivery counted on the worker's metrics endpoint, labelled by the notice's kind
    and a message's result (and, by the activity meter, by the activity: a case's own send
    or the sweep)."""
    if activity.in_activity():
        labels = {"kind": kind, **({"result": result} if result else {})}
        activity.metric_meter().create_counter(name, description).add(1, labels)


class NotifyActivities:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    @activity.defn(name="send_notifications")
    async def send_notifications(self, case_id: str, as_of: datetime | None = None) -> int:
        """The case's due notices; `as_of` is the workflow's time when it releases a held
        one (never earlier than the database's clock)."""
        return await self.outbox.send_pending(case_id, as_of)

    @activity.defn(name="sweep_notifications")
    async def sweep_notifications(self) -> dict[str, int]:
        return await self.outbox.sweep()
