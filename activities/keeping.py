"""The keep-in-touch run's Temporal adapter (the rules in domain.advertising, the run in
notify.keep_in_touch, the SQL in store.advertising)."""

from datetime import UTC, datetime

from temporalio import activity

from notify.keep_in_touch import KeepInTouch
from store import records


class KeepingActivities:
    def __init__(self, runner: KeepInTouch) -> None:
        self.runner = runner

    @activity.defn(name="keep_in_touch")
    async def keep_in_touch(self) -> dict[str, int]:
        """One run: every customer due a keep-in-touch message who may get one now."""
        return (await self.runner.run(datetime.now(UTC))).counts()

    @activity.defn(name="end_legal_holds")
    async def end_legal_holds(self) -> int:
        """Destroy the minimal complaint records whose 3-year hold has ended."""
        return await records.destroy_expired(self.runner.pool, datetime.now(UTC))
