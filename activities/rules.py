"""The shop's rulebook, read by the worker when a case opens: response targets, care
policy and the business calendar (with the closures kept in PostgreSQL) come from the
worker's configuration, never from whoever opened the case."""

from datetime import UTC, datetime

import asyncpg
from temporalio import activity

from domain.model import CaseRules, Motive
from infra.settings import Settings
from store import calendar


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
        # In wall-clock mode too: the calendar says when staff may be reminded.
        closed = await calendar.closures(self.pool, now.date()) if self.pool else {}
        return CaseRules(
            targets=self.settings.targets_for(motive, self.settings.calendar(closed, now)),
            care=self.settings.care_policy(),
        )
