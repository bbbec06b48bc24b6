"""The restore drill: `complaints backup` of a database with cases, `complaints restore` into
a new database, and the cases show, replay and continue there; the keys open only with the
passphrase; a database with data is never restored over; `complaints doctor` reports where
Temporal and PostgreSQL disagree."""

import json
import re
import stat
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from infra import postgres
from infra.keys import add_shop_key, shop_secrets
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from tests.conftest import TEST_CONVERTER
from tests.e2e.test_cli import Cli
from tests.helpers import OWNER, add_staff, event_types
from tests.integration.fresh import fresh_database
from worker import build_worker
from workflows.complaint import ComplaintWorkflow

pytestmark = pytest.mark.db

PASSPHRASE = "correct horse battery staple"
SHOP = "k7qm-3xd9"


def cli_on(env: WorkflowEnvironment, settings: Settings, url: str, secret: str) -> Cli:
    cli = Cli(env, settings.model_copy(update={"database_url": url}))
    cli.env["COMPLAINTS_BACKUP_PASSPHRASE"] = secret
    return cli


async def test_a_backup_restores_into_a_new_database_and_the_cases_continue(
    dev_env: WorkflowEnvironment, server_url: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    async with fresh_database(server_url) as source_url:
        source = await postgres.connect(source_url, max_size=4, scope=FIRST_SHOP)
        await add_staff(source, OWNER, "owner")
        cli = cli_on(dev_env, settings, source_url, PASSPHRASE)
        cli.env["COMPLAINTS_SHOP_KEYS"] = str(tmp_path / "shop-keys")
        add_shop_key(tmp_path / "shop-keys", SHOP)  # another shop's secret goes along
        async with build_worker(dev_env.client, source, settings):
            ids = []
            for what in ("The cake was crushed", "The delivery came an hour late"):
                opened = await cli(
                    "open", "--name", "Kim Minji", "--phone", "010-1234-5678",
                    "--channel", "phone", "--motive", "compensation", "--what", what,
                )  # fmt: skip
                ids.append(re.search(r"opened case ([\w-]+)", opened).group(1))
            await cli("apologize", ids[0], "Sorry the cake was crushed")

        said = await cli("backup", str(folder))
        assert "backed up 2 cases" in said and "sealed with the passphrase" in said, said
        before = await everything(source)
        await source.close()

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["cases"] == 2
    assert manifest["newest_event"]["case_id"] == ids[0]
    assert manifest["tables"]["complaint_events"]["rows"] == 3  # 2 openings, 1 apology
    assert manifest["keys"]["ids"] == ["test-1"]
    assert manifest["keys"]["shops"] == [SHOP]
    assert manifest["versions"]["temporalio"].startswith("1.35")
    sealed = (folder / "keys.sealed.json").read_text()
    key = json.loads(cli.env["COMPLAINTS_CODEC_KEYS"])["test-1"]
    assert key not in sealed and key not in (folder / "settings.json").read_text()
    shop_secret = shop_secrets(tmp_path / "shop-keys")[SHOP]
    assert shop_secret not in sealed
    for file in [*folder.rglob("*.csv"), *folder.glob("*.json")]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    refused = await cli("backup", str(folder), ok=False)  # never over an earlier backup
    assert "is not empty" in refused

    async with fresh_database(server_url, migrated=False) as target_url:
        wrong = cli_on(dev_env, settings, target_url, "not the passphrase at all")
        assert "does not open keys.sealed.json" in await wrong("restore", str(folder), ok=False)

        cli = cli_on(dev_env, settings, target_url, PASSPHRASE)
        cli.env["COMPLAINTS_SHOP_KEYS"] = str(tmp_path / "restored-shop-keys")
        said = await cli("restore", str(folder))
        assert "restored 2 cases and 3 events" in said, said
        assert "payload keys include the backup's (test-1)" in said
        assert "shop keys: 1 of 1 written" in said, said
        assert shop_secrets(tmp_path / "restored-shop-keys") == {SHOP: shop_secret}
        again = await cli("restore", str(folder), ok=False)
        assert "is not empty" in again and "complaint_events: 3 rows" in again, again

        target = await postgres.connect(target_url, max_size=4, scope=FIRST_SHOP)
        try:
            assert await everything(target) == before  # every row of every table
            # Shows, replays and continues on the restored database.
            async with build_worker(dev_env.client, target, settings):
                assert ids[0] in await cli("show", ids[0])
                assert "Temporal and PostgreSQL agree" in await cli("doctor")
                await cli("empathize", ids[0], "It was for his birthday")
            assert await event_types(target, ids[0]) == ["case_opened", "apologized", "empathized"]
            handle = dev_env.client.get_workflow_handle(f"complaint-{ids[0]}")
            history = await handle.fetch_history()
            replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=TEST_CONVERTER)
            await replayer.replay_workflow(history)

            # A database older than Temporal: one case lost its last event, one its row.
            await lose_last_event(target, ids[0])
            await target.execute("DELETE FROM complaint_events WHERE case_id = $1", ids[1])
            await target.execute("DELETE FROM complaint_cases WHERE case_id = $1", ids[1])
            async with build_worker(dev_env.client, target, settings):
                report = await cli("doctor")
            assert f"case {ids[0]}: PostgreSQL has 2 events, its history 3" in report, report
            assert f"case {ids[1]}: a workflow in Temporal, no row in PostgreSQL" in report
            assert "disagree" in report
        finally:
            await target.close()


async def everything(pool: asyncpg.Pool) -> str:
    """Every row of every table but schema_migrations (applied anew by restore), as text."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename <> 'schema_migrations' ORDER BY tablename"
    )
    dump = []
    for t in tables:
        rows = await pool.fetch(f'SELECT t::text AS row FROM "{t["tablename"]}" t ORDER BY 1')
        dump += [f"{t['tablename']}: {r['row']}" for r in rows]
    return "\n".join(dump)


async def lose_last_event(pool: asyncpg.Pool, case_id: str) -> None:
    last = await pool.fetchrow(
        "SELECT seq, event_id FROM complaint_events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
        case_id,
    )
    await pool.execute("DELETE FROM notifications WHERE event_id = $1", last["event_id"])
    await pool.execute(
        "DELETE FROM complaint_events WHERE case_id = $1 AND seq = $2", case_id, last["seq"]
    )
