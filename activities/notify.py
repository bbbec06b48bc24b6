"""The outbox's Temporal adapter: a case's due notices sent, and the sweep (the outbox and
its SQL live in store.outbox, the senders in notify/). The sweep also takes a rulebook
change to the open cases it missed (app.rule_delivery)."""

from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog
from temporalio import activity
from temporalio.client import Client

from store import shops
from store.outbox import Outbox

log = structlog.get_logger(__name__)


def count_in_activity(name: str, description: str, kind: str, result: str = "") -> None:
    """A delivery counted on the worker's metrics endpoint, labelled by the notice's kind
    and a message's result (and, by the activity meter, by the activity: a case's own send
    or the sweep)."""
    if activity.in_activity():
        labels = {"kind": kind, **({"result": result} if result else {})}
        activity.metric_meter().create_counter(name, description).add(1, labels)


# The sweep's rulebook step, given the worker's Temporal client: counts of open cases
# reached and not reached by a change left undelivered.
Redeliver = Callable[[Client], Awaitable[dict[str, int]]]


class NotifyActivities:
    def __init__(self, outbox: Outbox, redeliver: Redeliver | None = None) -> None:
        self.outbox = outbox
        self.redeliver = redeliver

    @activity.defn(name="send_notifications")
    async def send_notifications(self, case_id: str, as_of: datetime | None = None) -> int:
        """The case's due notices; `as_of` is the workflow's time when it releases a held
        one (never earlier than the database's clock)."""
        return await self.outbox.send_pending(case_id, as_of)

    @activity.defn(name="sweep_notifications")
    async def sweep_notifications(self) -> dict[str, int]:
        """Notices left unsent, then a rulebook change some open cases missed. Within the
        activity the workflow already runs, so the sweep's workflow (and its recorded
        histories) stay as they are."""
        swept = await shops.each(self.outbox.pool, self.outbox.sweep)
        if self.redeliver is None:
            return swept
        try:
            rules = await self.redeliver(activity.client())
        except Exception as err:  # Temporal away: the mark stays, the next sweep tries again
            log.warning("rulebook change not delivered by the sweep", error=str(err))
            rules = {"rules_reached": 0, "rules_unreached": 0, "rules_failed": 1}
        if rules["rules_reached"] or rules["rules_unreached"]:
            log.info("rulebook change delivered by the sweep", **rules)
        return {**swept, **rules}
