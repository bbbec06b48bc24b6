"""The staff CLI as a user types it, against a real Temporal dev server and PostgreSQL."""

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra import temporal_server
from infra.settings import Settings
from tests.helpers import event_types, eventually
from worker import build_worker

pytestmark = pytest.mark.db
BIN = Path(sys.executable).parent


class Cli:
    def __init__(self, env: WorkflowEnvironment, settings: Settings) -> None:
        self.address = env.client.service_client.config.target_host
        self.env = os.environ | {
            "TEMPORAL_ADDRESS": self.address,
            "COMPLAINTS_TASK_QUEUE": settings.task_queue,
            "DATABASE_URL": settings.database_url or "",
            "COMPLAINTS_LOG_FORMAT": "json",
        }

    async def __call__(self, *args: str, ok: bool = True) -> str:
        process = await asyncio.create_subprocess_exec(
            str(BIN / "complaints"),
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if ok:
            assert process.returncode == 0, err.decode()
            return out.decode()
        assert process.returncode != 0, out.decode()
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1, f"an error is one clear line, got: {lines}"
        return lines[0]


async def test_a_case_walked_from_the_cli_is_stored_and_findable(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    async with build_worker(dev_env.client, pool, settings):
        opened = await cli(
            "open",
            "--name",
            "Park Jiho",
            "--phone",
            "010-9876-5432",
            "--channel",
            "kakaotalk",
            "--motive",
            "compensation",
            "--what",
            "Aircon still leaks after the repair",
        )
        case_id = re.search(r"opened case (\w+)", opened).group(1)
        assert f"/workflows/complaint-{case_id}" in opened

        assert "waiting for apologize, not analyze cause" in await cli(
            "analyze", case_id, "cause", "--fault", "ours", ok=False
        )
        await cli("apologize", case_id, "Sorry, the leak came back after our repair")
        await cli("empathize", case_id, "She said the floor got wet twice", "--by", "Lee")
        await cli("analyze", case_id, "The drain hose was kinked", "--fault", "ours")
        await cli("offer", case_id, "Free revisit tomorrow 3-5 pm and a floor clean")
        done = await cli("prevent", case_id, "Hose routing is now on our checklist")
        assert "(resolved)" in done

        shown = json.loads(await cli("show", case_id, "--json"))
        row = await pool.fetchrow("SELECT * FROM complaint_cases WHERE case_id = $1", case_id)
        assert (
            (row["status"], row["step"], row["fault"], row["version"])
            == (shown["status"], shown["next_step"], shown["fault"], shown["version"])
            == ("resolved", None, "ours", 6)
        )
        assert len(await event_types(pool, case_id)) == 6

        async def listed() -> None:
            process = await asyncio.create_subprocess_exec(
                temporal_server.binary("temporal"),
                "workflow",
                "list",
                "--address",
                cli.address,
                "--query",
                f'ComplaintStatus="resolved" AND WorkflowId="complaint-{case_id}"',
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await process.communicate()
            assert f"complaint-{case_id}" in out.decode()

        await eventually(listed)
        assert "rebuilt complaint_cases" in await cli("rebuild")


async def test_bad_input_gets_one_clear_line_and_writes_nothing(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    before = await pool.fetchval("SELECT count(*) FROM complaint_events")
    async with build_worker(dev_env.client, pool, settings):
        assert "no open case 'nosuch1'" in await cli("apologize", "nosuch1", "Sorry", ok=False)
        bad_phone = await cli(
            "open",
            "--name",
            "Kim",
            "--phone",
            "010-12",
            "--channel",
            "phone",
            "--motive",
            "anger",
            "--what",
            "Rude staff",
            ok=False,
        )
        assert "phone number '010-12' is not valid" in bad_phone
        empty = await cli(
            "open",
            "--name",
            "Kim",
            "--phone",
            "010-1234-5678",
            "--channel",
            "phone",
            "--motive",
            "anger",
            "--what",
            "   ",
            ok=False,
        )
        assert "summary" in empty and "at least 1 character" in empty
    assert await pool.fetchval("SELECT count(*) FROM complaint_events") == before
    cli.env["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
    missing = await cli("show", "abc123", ok=False)
    assert "cannot reach Temporal at 127.0.0.1:1" in missing and "make run" in missing
