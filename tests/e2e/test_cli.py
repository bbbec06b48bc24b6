"""The staff CLI as a user types it, against a real Temporal dev server and PostgreSQL."""

import asyncio
import json
import os
import re
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from infra import temporal_server
from infra.settings import Settings
from tests.helpers import OWNER, STAFF, event_types, eventually
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
            "COMPLAINTS_STAFF": settings.staff or OWNER,
        }

    async def run(self, *args: str) -> tuple[int, str, str]:
        """Exit code, standard output and standard error of one command."""
        process = await asyncio.create_subprocess_exec(
            str(BIN / "complaints"),
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def __call__(self, *args: str, ok: bool = True) -> str:
        code, out, err = await self.run(*args)
        if ok:
            assert code == 0, err
            return out
        assert code != 0, out
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"an error is one clear line, got: {lines}"
        return lines[0]


async def test_a_case_walked_from_the_cli_is_stored_and_findable(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    cli.env["COMPLAINTS_STAFF"] = STAFF  # a staff member walks the case
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
        case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
        assert f"/workflows/complaint-{case_id}" in opened

        assert "waiting for apologize, not analyze cause" in await cli(
            "analyze", case_id, "cause", "--fault", "ours", ok=False
        )
        await cli("apologize", case_id, "Sorry, the leak came back after our repair")
        await cli("empathize", case_id, "She said the floor got wet twice")
        await cli("analyze", case_id, "The drain hose was kinked", "--fault", "ours")
        assert "recommended: free_redo" in await cli("show", case_id)
        # A look at a stored case reads PostgreSQL alone: not one module of Temporal's SDK.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "importtime",
            str(BIN / "complaints"),
            "show",
            case_id,
            env=cli.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, imports = await process.communicate()
        assert "recommended: free_redo" in out.decode()
        assert "temporalio" not in imports.decode()
        await cli(
            "offer",
            case_id,
            "Free revisit tomorrow 3-5 pm, or half the price back",
            "--option",
            "free_redo=revisit tomorrow 3-5 pm and a floor clean",
            "--option",
            "partial_refund",
        )
        assert "(open); now at show prevention" in await cli(
            "answer", case_id, "--choose", "free_redo"
        )
        assert "(resolved)" in await cli("prevent", case_id, "Hose routing is now on our checklist")
        assert "\nnext      follow-up call from" in await cli("show", case_id)
        assert "score: Input should be less than or equal to 5" in await cli(
            "rate", case_id, "7", ok=False
        )
        assert "(closed)" in await cli("rate", case_id, "5", "--comment", "Dry floor at last")

        shown = json.loads(await cli("show", case_id, "--json"))
        row = await pool.fetchrow("SELECT * FROM complaint_cases WHERE case_id = $1", case_id)
        assert (
            (row["status"], row["step"], row["fault"], row["rating"], row["version"])
            == (shown["status"], "done", shown["fault"], shown["rating"], shown["version"])
            == ("closed", "done", "ours", 5, 9)
        )
        assert shown["accepted"]["terms"] == "revisit tomorrow 3-5 pm and a floor clean"
        assert len(await event_types(pool, case_id)) == 9
        by = await pool.fetch(
            "SELECT data->>'by' AS by FROM complaint_events WHERE case_id = $1", case_id
        )
        assert {r["by"] for r in by} == {STAFF}, "the acting staff member on every event"

        async def listed() -> None:
            process = await asyncio.create_subprocess_exec(
                temporal_server.binary("temporal"),
                "workflow",
                "list",
                "--address",
                cli.address,
                "--query",
                f'ComplaintStatus="closed" AND WorkflowId="complaint-{case_id}"',
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await process.communicate()
            assert f"complaint-{case_id}" in out.decode()

        await eventually(listed)
        assert "only managers and the owner may rebuild" in await cli("rebuild", ok=False)
        cli.env["COMPLAINTS_STAFF"] = OWNER
        assert "rebuilt complaint_cases" in await cli("rebuild")


async def test_bad_input_gets_one_clear_line_and_writes_nothing(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    before = await pool.fetchval("SELECT count(*) FROM complaint_events")
    async with build_worker(dev_env.client, pool, settings):
        assert "no case 'nosuch1': check the id with `complaints list`" in await cli(
            "apologize", "nosuch1", "Sorry", ok=False
        )
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
        assert empty == "complaints: error: --what: must not be empty"
    assert await pool.fetchval("SELECT count(*) FROM complaint_events") == before
    cli.env["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
    missing = await cli("show", "abc123", ok=False)
    assert "cannot reach Temporal at 127.0.0.1:1" in missing and "make run" in missing


async def test_compensation_and_anger_cases_get_different_offers(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings
) -> None:
    cli = Cli(dev_env, settings)
    phone = "010-5555-0" + str(uuid.uuid4().int % 900 + 100)
    for _ in range(5):
        visit = await cli("visit", phone, "--name", "Yoon Seo")
    assert "5 visits, tier gold" in visit
    async with build_worker(dev_env.client, pool, settings):
        shown = {}
        for motive in ("compensation", "anger"):
            opened = await cli(
                "open",
                "--name",
                "Yoon Seo",
                "--phone",
                phone,
                "--channel",
                "in_person",
                "--motive",
                motive,
                "--what",
                "Haircut was uneven",
            )
            case_id = re.search(r"opened case ([\w-]+)", opened).group(1)
            await cli("apologize", case_id, "Sorry the cut came out uneven")
            await cli("empathize", case_id, "She has a wedding on Saturday")
            await cli("analyze", case_id, "Rushed between bookings", "--fault", "ours")
            shown[motive] = (case_id, await cli("show", case_id))
        comp_id, comp = shown["compensation"]
        anger_id, anger = shown["anger"]
        assert "tier gold" in comp and "1 earlier case)" in anger
        assert (
            "remedies  free_redo, partial_refund, full_refund, next_service_discount, "
            "goodwill_gift, priority_booking" in comp
        )
        assert "remedies  formal_apology, goodwill_gift, priority_booking" in anger
        refused = await cli("offer", anger_id, "Money back", "--option", "full_refund", ok=False)
        assert "full_refund is not offered when the motive is anger" in refused
        assert "unknown remedy 'cash'" in await cli(
            "offer", anger_id, "x", "--option", "cash", ok=False
        )
        await cli(
            "offer",
            anger_id,
            "Owner apologizes in person, free touch-up",
            "--option",
            "formal_apology",
            "--option",
            "full_refund",
            "--override",
            "Wedding this week; owner's call",
        )
        types = await event_types(pool, anger_id)
        assert types[-2:] == ["policy_overridden", "resolution_offered"]
        for case_id in (comp_id, anger_id):
            await cli("withdraw", case_id, "test over")
