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
    async def case_rules(self, motive: Motive) -> CaseRules:
        now = datetime.now(UTC)
        shop_calendar = None
        if self.settings.target_mode == "business":
            closed = await calendar.closures(self.pool, now.date()) if self.pool else {}
            shop_calendar = self.settings.calendar(closed, now)
        return CaseRules(
            targets=self.settings.targets_for(motive, shop_calendar),
            care=self.settings.care_policy(),
        )
