"""The inbox's "mine" (migration 0025): the open cases a person opened or whose latest step
they answered, as the fold says (CaseState opened_by / handled_by), read through two indexes
over the open cases; cases stored before the migration get the names from their events."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import AnalyzeCause, Apologize, Empathize, Withdraw
from domain.model import CaseState, Fault
from infra import postgres
from infra.shop_ids import FIRST_SHOP
from store import migrations, scope
from store.events import EventStore
from store.inbox import InboxFilter, open_cases, open_cases_sql
from tests.helpers import open_command, recorded
from tests.integration.fresh import fresh_database

pytestmark = pytest.mark.db
T = datetime(2036, 5, 1, 9, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.fixture
async def fresh_url(server_url: str) -> AsyncIterator[str]:
    async with fresh_database(server_url, migrated=False) as url:
        yield url


def _walks() -> dict[str, list]:  # type: ignore[type-arg]
    def opened(case_id: str, by: str | None) -> tuple:  # type: ignore[type-arg]
        return (open_command(case_id).model_copy(update={"by": by}), T)

    return {
        "mine-0001": recorded("mine-0001", [opened("mine-0001", "Ana")]),
        "mine-0002": recorded(
            "mine-0002",
            [
                opened("mine-0002", "Ana"),
                (Apologize(what="Sorry", by="Bo"), T + M),
                (Empathize(customer_words="I waited", by=None), T + 2 * M),
            ],
        ),
        "mine-0003": recorded(
            "mine-0003",
            [
                opened("mine-0003", "web form"),
                (Apologize(what="Sorry", by="Bo"), T + M),
                (Empathize(customer_words="I waited", by="Cy"), T + 2 * M),
                (AnalyzeCause(cause="A slip", fault=Fault.OURS, by="Cy"), T + 3 * M),
            ],
        ),
        "mine-0004": recorded(
            "mine-0004", [opened("mine-0004", "Ana"), (Withdraw(reason="Gone", by="Ana"), T + M)]
        ),
    }


async def _names(pool: postgres.asyncpg.Pool) -> dict[str, tuple[str | None, str | None]]:
    rows = await pool.fetch("SELECT case_id, state::text AS state FROM complaint_cases")
    return {
        r["case_id"]: (s.opened_by, s.handled_by)
        for r in rows
        for s in [CaseState.model_validate_json(r["state"])]
    }


async def _mine(pool: postgres.asyncpg.Pool, name: str) -> list[str]:
    rows, total = await open_cases(pool, InboxFilter(mine=name), 20, 1)
    assert total == len(rows)
    return sorted(r["case_id"] for r in rows)


async def test_mine_from_the_fold_and_from_the_migrations_backfill(fresh_url: str) -> None:
    pool = await postgres.connect(fresh_url, max_size=4, scope=scope.OWNER)
    try:
        await migrations.migrate(pool, up_to=24)
        walks = _walks()
        with scope.shop(FIRST_SHOP):
            for case_id, events in walks.items():
                await EventStore(pool).append(case_id, events)
            folded = await _names(pool)
            assert folded == {
                "mine-0001": ("Ana", "Ana"),
                "mine-0002": ("Ana", "Bo"),  # a step without a name leaves the holder
                "mine-0003": ("web form", "Cy"),
                "mine-0004": ("Ana", "Ana"),
            }
            # As the release before stored them: no names in the states.
            await pool.execute(
                "UPDATE complaint_cases"
                " SET state = (state::jsonb - 'opened_by' - 'handled_by')::json"
            )
        assert [m.version for m in await migrations.migrate(pool, up_to=25)] == [25]
        with scope.shop(FIRST_SHOP):
            backfilled = await _names(pool)
            open_ones = {k: v for k, v in folded.items() if k != "mine-0004"}
            assert {k: v for k, v in backfilled.items() if k != "mine-0004"} == open_ones
            assert backfilled["mine-0004"] == (None, None), "a withdrawn case is left alone"

            assert await _mine(pool, "Ana") == ["mine-0001", "mine-0002"]
            assert await _mine(pool, "Bo") == ["mine-0002"]
            assert await _mine(pool, "Cy") == ["mine-0003"]
            assert await _mine(pool, "Dee") == []

            # The migration's indexes answer the filter under the shop's row-level policy
            # (a text equality, leakproof, where `state->>...` was not), once the shop has
            # more open cases than a page holds.
            await pool.execute(
                "INSERT INTO complaint_cases (case_id, status, step, motive, channel,"
                " opened_at, version, updated_at, state) SELECT 'many-' || i, 'open',"
                " 'apologize', 'anger', 'phone', now(), 1, now(),"
                " json_build_object('opened_by', 'x' || i % 50, 'handled_by', 'y' || i % 50)"
                " FROM generate_series(1, 20000) i"
            )
            await pool.execute("VACUUM ANALYZE complaint_cases")
            query, _, args = open_cases_sql(InboxFilter(mine="Ana"), 20, 1)
            plan = "\n".join(r[0] for r in await pool.fetch(f"EXPLAIN {query}", *args))
            assert "complaint_cases_opened_by" in plan and "complaint_cases_handled_by" in plan, (
                plan
            )
            assert await _mine(pool, "Ana") == ["mine-0001", "mine-0002"]
    finally:
        await pool.close()
