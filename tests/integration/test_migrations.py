"""Numbered migrations: applied once, under a lock, only when pending; read paths never
run DDL, so they neither queue behind an open transaction nor need more than SELECT."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from cli.main import run as cli_run
from cli.parser import parser
from domain.effects import Voice
from domain.model import Step
from domain.phone import normalize_phone
from infra import postgres
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from store import migrations, scope
from store.customers import CustomerDirectory
from store.events import EventStore
from store.report import period_report
from tests.conftest import with_database
from tests.e2e.test_cli import BIN
from tests.helpers import MANAGER, appending_as_before_0022, open_command, recorded
from tests.integration.test_event_store import PHONE, T0, legacy_walk

pytestmark = pytest.mark.db


@pytest.fixture
async def fresh_url(server_url: str) -> AsyncIterator[str]:
    name = f"complaints_fresh_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_fresh_database_is_refused_to_readers_until_migrated_once(
    fresh_url: str,
) -> None:
    pool = await postgres.connect(fresh_url, scope=scope.OWNER)
    try:
        with pytest.raises(migrations.SchemaNotReady, match="run `complaints migrate`"):
            await migrations.require_current(pool)
        applied = await migrations.migrate(pool)
        assert [m.version for m in applied] == [m.version for m in migrations.migrations()]
        assert await migrations.migrate(pool) == []
        await migrations.require_current(pool)
        rows = await pool.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert (rows[0]["version"], rows[0]["name"]) == (1, "initial")
    finally:
        await pool.close()


async def test_a_database_made_before_numbered_migrations_is_adopted_with_its_data(
    fresh_url: str,
) -> None:
    pool = await postgres.connect(fresh_url, scope=scope.OWNER)
    try:
        first = migrations.migrations()[0]
        await pool.execute(first.sql)  # what every start used to run
        await pool.execute(
            "INSERT INTO customers (phone, name, visits) VALUES ('+821011112222', 'Lee', 2)"
        )
        adopted = await migrations.migrate(pool)
        assert [m.version for m in adopted] == [m.version for m in migrations.migrations()]
        row = await pool.fetchrow("SELECT id, name, visits FROM customers")
        assert row["id"].startswith("cus-") and (row["name"], row["visits"]) == ("Lee", 2)
    finally:
        await pool.close()


async def test_concurrent_migrations_apply_each_step_once(fresh_url: str) -> None:
    pools = [await postgres.connect(fresh_url, scope=scope.OWNER) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrations.migrate(p) for p in pools))
        assert sorted(len(r) for r in results) == [0, 0, len(migrations.migrations())]
    finally:
        for p in pools:
            await p.close()


async def test_list_answers_while_another_session_holds_a_case_row(
    pool: asyncpg.Pool, settings: Settings, case_id: str
) -> None:
    """Before, every pool creation ran the schema DDL: `list` queued an ACCESS EXCLUSIVE
    lock behind the open transaction, and every action on any case queued behind it."""
    at = datetime.now(UTC) - timedelta(hours=1)
    await EventStore(pool).append(case_id, recorded(case_id, [(open_command(case_id), at)]))
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("SELECT 1 FROM complaint_cases WHERE case_id = $1 FOR UPDATE", case_id)
        args = parser().parse_args(["list", "--json", "--limit", "1000"])
        listed = await asyncio.wait_for(cli_run(args, settings), timeout=1.0)
        assert case_id in listed
        assert await asyncio.wait_for(migrations.migrate(pool), timeout=1.0) == []


@pytest.fixture
async def reader_url(database_url: str) -> AsyncIterator[str]:
    """The same database through a role that may only SELECT (and, as every login of the
    service must, act as the shop roles of migration 0021)."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    database = urlsplit(database_url).path.lstrip("/")
    await admin.execute(f"CREATE ROLE {role} LOGIN")
    await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    await admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    await admin.execute(f"GRANT complaints_service, complaints_system TO {role}")
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    try:
        yield urlunsplit(parts._replace(netloc=f"{role}@{host}"))
    finally:
        await admin.execute(f"DROP OWNED BY {role}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_a_select_only_role_can_list_report_and_export_but_not_migrate(
    reader_url: str, pool: asyncpg.Pool, staff_tokens: dict[str, str]
) -> None:
    env = os.environ | {
        "DATABASE_URL": reader_url,
        "COMPLAINTS_LOG_FORMAT": "json",
        "COMPLAINTS_STAFF": MANAGER,  # reports and exports are a manager's
    }

    async def complaints(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            str(BIN / "complaints"),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        return process.returncode or 0, out.decode(), err.decode()

    for args in (["list"], ["report"], ["export"]):
        code, out, err = await complaints(*args)
        assert code == 0 and out, (args, err)
    code, out, err = await complaints("migrate")
    assert code == 0 and "up to date" in out, err  # nothing pending: no DDL, no privilege
    await pool.execute("DELETE FROM schema_migrations WHERE version = 1")
    try:
        code, _, err = await complaints("list")
        assert code == 1 and "missing migrations 0001_initial" in err, err
        code, _, err = await complaints("migrate")
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert "may not change the schema" in err or "PostgreSQL refused" in err, err
    finally:
        await pool.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'initial')")


async def test_states_stored_as_jsonb_read_append_and_report_the_same_after_0009(
    fresh_url: str,
) -> None:
    """0009 turns the read model's state from jsonb into json on a database with cases in
    it: what was stored reads back the same, appends go on (the rewrite moved every row,
    so a worker's kept copy is read again), reports and `forget` still reach inside it."""
    pool = await postgres.connect(fresh_url, scope=scope.OWNER)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for m in migrations.migrations()[:8]:
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2)", m.version, m.name
                )
        case_id = f"c{uuid.uuid4().hex[:12]}"
        events = legacy_walk(case_id)  # the customer's phone inside the state
        store = EventStore(pool, Voice(language="en"))
        with appending_as_before_0022():  # the function as 0008 left it
            await store.append(case_id, events[:1])
        before = await store.case_state(case_id)
        typed = "SELECT pg_typeof(state)::text FROM complaint_cases"
        assert await pool.fetchval(typed) == "jsonb"

        later = list(range(9, len(migrations.migrations()) + 1))  # 0009 and any after it
        assert [m.version for m in await migrations.migrate(pool)] == later
        with scope.shop(FIRST_SHOP):  # what the database had became the first shop's
            assert await pool.fetchval(typed) == "json"
            assert await store.case_state(case_id) == before
            assert await store.append(case_id, events[1:]) == 1
            assert (await store.case_state(case_id)).steps_done == (Step.APOLOGIZE,)
            report = await period_report(pool, T0 - timedelta(days=1), T0 + timedelta(days=30))
            assert {s.step: s.answered for s in report.per_step if s.answered} == {"apologize": 1}
            forgotten = await CustomerDirectory(pool).forget(normalize_phone(PHONE))
            assert forgotten.cases == 1
            state = await store.case_state(case_id)
            assert state.customer is None and state.version == len(events)
    finally:
        await pool.close()


_AS_WRITTEN = migrations.migrations


def _with_second_edited() -> list[migrations.Migration]:
    known = _AS_WRITTEN()
    second = known[1]
    edited = migrations.Migration(
        second.version, second.name, second.sql + "\n-- edited", checksum="0" * 64
    )
    return [known[0], edited, *known[2:]]


async def test_an_applied_migration_whose_file_changed_stops_migrate_and_readers(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await postgres.connect(fresh_url, scope=scope.OWNER)
    settings = Settings(database_url=fresh_url)
    try:
        await migrations.migrate(pool)
        status = await cli_run(parser().parse_args(["migrate", "--status"]), settings)
        assert "0002_notification_claims" in status and "CHANGED" not in status
        assert f"{len(migrations.migrations())} applied, 0 pending" in status

        monkeypatch.setattr(migrations, "migrations", _with_second_edited)
        said = "migration 0002_notification_claims was changed after it was applied"
        with pytest.raises(migrations.MigrationEdited, match=said):
            await migrations.migrate(pool)
        with pytest.raises(migrations.SchemaNotReady, match=said):
            await migrations.require_current(pool)
        status = await cli_run(parser().parse_args(["migrate", "--status"]), settings)
        assert "0002_notification_claims" in status and "CHANGED since applied" in status
        assert status.endswith("1 changed after being applied")
    finally:
        await pool.close()


async def test_a_database_from_before_checksums_records_them_once_then_checks_them(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await postgres.connect(fresh_url, scope=scope.OWNER)
    try:
        await migrations.migrate(pool)
        await pool.execute("ALTER TABLE schema_migrations DROP COLUMN checksum")
        before = await migrations.applied(pool)
        assert before and all(a.checksum is None for a in before)
        await migrations.require_current(pool)  # nothing recorded: nothing to compare yet
        assert await migrations.migrate(pool) == []  # records the checksums, applies nothing
        sums = {a.version: a.checksum for a in await migrations.applied(pool)}
        assert sums == {m.version: m.checksum for m in migrations.migrations()}
        monkeypatch.setattr(migrations, "migrations", _with_second_edited)
        with pytest.raises(migrations.MigrationEdited):
            await migrations.require_current(pool)
    finally:
        await pool.close()
