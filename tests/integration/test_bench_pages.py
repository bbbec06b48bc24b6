"""`make bench`'s pages part keeps working, small: it seeds the read model, opens real cases
through a worker, times the inbox and a case page beside the JSON API and explains the
inbox's queries (no timing judged here; the figures are the benchmark's)."""

import re
import uuid

import pytest
from temporalio.testing import WorkflowEnvironment

from app.context import Context
from bench.pages import pages, read_model_rows
from infra import postgres
from infra.settings import Settings
from infra.shop_ids import FIRST_SHOP
from tests.integration.fresh import fresh_database
from worker import build_worker

pytestmark = pytest.mark.db


def test_the_seeded_rows_are_one_open_in_five_and_carry_no_customer() -> None:
    from datetime import UTC, datetime

    rows = list(read_model_rows(50, datetime(2030, 1, 1, tzinfo=UTC)))
    assert len({r[0] for r in rows}) == 50
    open_rows = [r for r in rows if r[11] is None]  # no closed_at
    assert len(open_rows) == 10 and all(r[9] is not None for r in open_rows)


async def test_the_pages_part_times_both_doors_and_explains_the_inbox(
    dev_env: WorkflowEnvironment, server_url: str
) -> None:
    async with fresh_database(server_url) as url:
        pool = await postgres.connect(url, max_size=4, scope=FIRST_SHOP)
        settings = Settings(task_queue=f"bench-{uuid.uuid4().hex[:8]}", database_url=url)
        try:
            async with build_worker(dev_env.client, pool, settings):
                ctx = Context(settings, client=dev_env.client, pool=pool)
                out = await pages(ctx, total=2000, requests=3)
        finally:
            await pool.close()
    for kind in ("inbox", "api_list", "case", "api_show"):
        assert out[kind]["n"] == 3 and 0 < out[kind]["p50"] <= out[kind]["p95"]
    assert out["cases"] == 2000 and out["open_cases"] == 400
    assert out["inbox_over_api_list_p95"] > 0 and out["case_over_api_show_p95"] > 0
    plans = out["explain"]["plans"]
    assert set(plans) == {"inbox_count", "inbox_page", "owner_count", "owner_page"}
    # Migration 0023's index over a shop's open cases serves the page in its own order.
    assert any("complaint_cases_inbox_shop" in line for line in plans["inbox_page"])
    # And the count of them reads an index over a shop's open cases alone (the shop's policy
    # its first column): 0023's, or the narrower ones 0025 added for "mine".
    assert any(
        re.search(r"Index Only Scan using complaint_cases_(inbox_shop|handled_by|opened_by)", line)
        for line in plans["inbox_count"]
    ), plans["inbox_count"]
