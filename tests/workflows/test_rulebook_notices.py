"""The rules that shape notices come from the owner's rulebook, not only the environment: quiet
hours set with `rules set` hold a customer's message until their new end, `language` words the
notices, `escalation_contacts` names who hears of an escalation. The owner acts through the
application layer while a worker runs; driven on the time-skipping server."""

import re
from datetime import date, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app import rules as rulebook
from app.cases import start_case
from app.context import Context
from infra.settings import Settings
from tests.conftest import free_port
from tests.helpers import eventually, open_command, skip_time
from tests.workflows.test_rules_changed import THE_OWNER, clean_rulebook
from tests.workflows.test_shop_time import local, minute, move_to, next_weekday, today
from worker import build_worker

pytestmark = pytest.mark.db

HANGUL = re.compile("[가-힣]")
__all__ = ["clean_rulebook"]  # the fixture, shared with test_rules_changed


def messaging(settings: Settings, **changes: object) -> Settings:
    """Customer messages on (the stand-in need not answer: the test reads the outbox), quiet
    hours 21:00-09:00 and English in the environment."""
    return settings.model_copy(
        update={
            "messages": "standin",
            "standin_port": free_port(),
            "public_url": "https://shop.test",
            "quiet_hours": "21:00-09:00",
            "language": "en",
            **changes,
        }
    )


async def test_quiet_hours_and_language_set_by_the_owner_hold_and_word_the_customer_message(
    ts_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    clean_rulebook: list[date],
) -> None:
    rules = messaging(settings)
    day = next_weekday(await today(ts_env), 2)
    await move_to(ts_env, local(day, 12))  # no quiet hour in the environment's rules
    async with build_worker(ts_env.client, pool, rules):
        ctx = Context(rules, client=ts_env.client, pool=pool)
        await rulebook.set_rules(ctx, THE_OWNER, {"quiet_hours": "11:00-15:00", "language": "ko"})
        await start_case(ts_env.client, rules, open_command(case_id))

        async def held() -> asyncpg.Record:
            row = await pool.fetchrow(
                "SELECT not_before, message FROM notifications"
                " WHERE case_id = $1 AND kind = 'case_received'",
                case_id,
            )
            assert row is not None
            return row

        row = await eventually(held)
        assert minute(row["not_before"]) == local(day, 15)  # the owner's quiet hours' end
        assert HANGUL.search(row["message"]), row["message"]  # the owner's language


async def test_escalation_contacts_set_by_the_owner_hear_of_an_escalation(
    ts_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    case_id: str,
    clean_rulebook: list[date],
) -> None:
    rules = settings.model_copy(update={"hold_staff_notices": False})
    async with build_worker(ts_env.client, pool, rules):
        ctx = Context(rules, client=ts_env.client, pool=pool)
        await rulebook.set_rules(
            ctx, THE_OWNER, {"escalation_contacts": '["lead", "boss"]', "response_target": "1h"}
        )
        await start_case(ts_env.client, rules, open_command(case_id))
        await skip_time(ts_env, timedelta(hours=1, minutes=5))

        async def escalated() -> list[str]:
            found = await pool.fetch(
                "SELECT recipient FROM notifications WHERE case_id = $1 AND kind = 'escalated'",
                case_id,
            )
            assert found
            return [r["recipient"] for r in found]

        assert await eventually(escalated) == ["lead"]
