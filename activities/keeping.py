"""The keep-in-touch run's Temporal adapter (the rules in domain.advertising, the run in
notify.keep_in_touch, the SQL in store.advertising)."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio import activity

from notify.keep_in_touch import KeepInTouch
from store import records, shops


class KeepingActivities:
    def __init__(
        self, runner: KeepInTouch, runner_now: Callable[[], Awaitable[KeepInTouch]] | None = None
    ) -> None:
        self.runner = runner
        # The run as the rules in force now make it (the owner's language, zone and
        # calendar): each hourly run asks; `runner` when none is given.
        self.runner_now = runner_now

    @activity.defn(name="keep_in_touch")
    async def keep_in_touch(self) -> dict[str, int]:
        """One run: every customer due a keep-in-touch message who may get one now."""

        async def one_shop() -> dict[str, int]:
            runner = await self.runner_now() if self.runner_now else self.runner
            return (await runner.run(datetime.now(UTC))).counts()

        return await shops.each(self.runner.pool, one_shop)

    @activity.defn(name="end_legal_holds")
    async def end_legal_holds(self) -> int:
        """Destroy the minimal complaint records whose 3-year hold has ended."""
        return await records.destroy_expired(self.runner.pool, datetime.now(UTC))
