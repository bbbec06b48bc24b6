"""Retention's Temporal adapter: the schedule's run removes what is due (store.retention)."""

from datetime import UTC, datetime

import asyncpg
from temporalio import activity

from store import retention, shops


class RetentionActivities:
    def __init__(self, pool: asyncpg.Pool, period: str, hold_years: int | None = None) -> None:
        self.pool = pool
        self.period = period
        self.hold_years = hold_years  # the complaint-records hold, as `forget` keeps it

    @activity.defn(name="apply_retention")
    async def apply_retention(self, dry_run: bool) -> dict[str, object]:
        """Customers and cases made anonymous (or, in a dry run, due); nothing when off."""
        kept = retention.parse_retention(self.period)
        if kept is None:
            return {"retention": "off", "customers": 0, "cases": 0}
        cutoff = kept.cutoff(datetime.now(UTC))

        async def one_shop() -> dict[str, int]:
            due = await retention.apply(self.pool, cutoff, dry_run, self.hold_years)
            return {"customers": due.people, "cases": due.cases, "records_kept": due.records}

        counts = await shops.each(self.pool, one_shop)
        return {
            "retention": str(kept),
            "cutoff": cutoff.isoformat(),
            "customers": counts.get("customers", 0),
            "cases": counts.get("cases", 0),
            "records_kept": counts.get("records_kept", 0),
            "dry_run": dry_run,
        }
