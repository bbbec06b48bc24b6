"""The shop's rulebook, read by the worker when a case opens and when its rules move:
response targets, care policy and the business calendar come from the worker's
configuration with the rules the owner has set on top, and the closures and extra openings
kept in PostgreSQL; never from whoever opened the case."""

from datetime import UTC, date, datetime

import asyncpg
from temporalio import activity

from domain.model import CaseRules, Motive
from infra.calendar import snapshot_years
from infra.rulebook import applied, shop_calendar_now
from infra.settings import Settings
from store import rulebook


class RulebookActivities:
    def __init__(self, settings: Settings, pool: asyncpg.Pool | None = None) -> None:
        self.settings = settings
        self.pool = pool

    @activity.defn(name="case_rules")
    async def case_rules(self, motive: Motive, opened_at: datetime | None = None) -> CaseRules:
        # When the case opens on the workflow's clock, not the worker's: the holidays of the
        # years the case lives in (the two differ when a test skips time, or a clock is off).
        # None from cases opened before it was passed (they replay; the answer is recorded).
        now = (opened_at or datetime.now(UTC)).astimezone(UTC)
        return await self._rules(motive, now, now)

    @activity.defn(name="current_rules")
    async def current_rules(self, motive: Motive, opened_at: datetime, now: datetime) -> CaseRules:
        """The rules an open case runs by from `now` on: as at its opening, with what has
        changed since, and the holidays of the years from its opening to the year after
        `now` (a case that outlives its snapshot extends it)."""
        return await self._rules(motive, opened_at.astimezone(UTC), now.astimezone(UTC))

    async def _rules(self, motive: Motive, opened_at: datetime, now: datetime) -> CaseRules:
        since = opened_at.date()  # the same closures at opening and at every later read
        years = range(opened_at.year, max(snapshot_years(opened_at).stop, now.year + 2))
        settings = self.settings
        closed: dict[date, str] = {}
        opened: tuple[tuple[date, str], ...] = ()
        if self.pool is not None:
            shop = await rulebook.shop_rules(self.pool, since)
            settings = applied(self.settings, shop.rules)
            closed, opened = shop.closures, tuple((o.day, o.hours) for o in shop.openings)
        # In wall-clock mode too: the calendar says when staff may be reminded.
        calendar = shop_calendar_now(settings, closed, opened, opened_at, years)
        return CaseRules(
            targets=settings.targets_for(motive, calendar), care=settings.care_policy()
        )
