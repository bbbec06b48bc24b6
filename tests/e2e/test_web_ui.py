"""The Temporal Web UI in headless Chromium: filters by our search attributes find the right
cases, and a case page tells its story (summary, progress, named timers and activities),
its encrypted payloads decoded through the API's codec endpoint when the browser sends a
staff token, and still loads, payloads sealed, when it sends none (the dev server's UI)."""

import shutil
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Route
from temporalio.testing import WorkflowEnvironment

from app.cases import start_case
from domain.commands import (
    AnalyzeCause,
    Apologize,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
)
from domain.model import Fault, Motive, RemedyKind
from infra.settings import Settings
from tests.helpers import STAFF, eventually, open_command, workflow_id
from worker import build_worker
from workflows.complaint import ComplaintWorkflow as WF

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("first_shop")]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "web-ui"
ROW = 'tr[data-testid="workflows-summary-configurable-table-row"]'
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is not installed: `apt-get install chromium` (.ci/run does)",
        allow_module_level=True,
    )


@pytest.fixture
async def page(ui_port: int) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async def local_only(route: Route) -> None:
        # The UI fetches a news feed from the internet; this machine has none.
        host = urllib.parse.urlsplit(route.request.url).hostname
        await (route.continue_() if host in ("127.0.0.1", "localhost") else route.abort())

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.route("**/*", local_only)
        yield page
        await browser.close()


async def listed(page, ui_port: int, query: str) -> set[str]:
    url = f"http://127.0.0.1:{ui_port}/namespaces/default/workflows?query="
    await page.goto(url + urllib.parse.quote(query))
    await page.wait_for_selector(ROW, timeout=20_000)
    ids = set()
    for row in await page.query_selector_all(ROW):
        link = await row.query_selector('a[href*="/namespaces/default/workflows/"]')
        ids.add((await link.inner_text()).strip())
    return ids


async def test_filters_list_the_right_cases_and_a_case_page_tells_its_story(
    dev_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    settings: Settings,
    ui_port: int,
    page,
    codec_endpoint: str,
    staff_tokens: dict[str, str],
) -> None:
    client = dev_env.client
    OUTPUT.mkdir(parents=True, exist_ok=True)
    async with build_worker(client, pool, settings):
        ids = {}
        for name in ("escalated", "awaiting", "fresh"):
            case_id = f"ui{name[:3]}{settings.task_queue[-6:]}"
            await start_case(client, settings, open_command(case_id, motive=Motive.COMPENSATION))
            ids[name] = case_id
        for name in ("escalated", "awaiting"):
            h = client.get_workflow_handle_for(WF.run, workflow_id(ids[name]))
            await h.execute_update(WF.apologize, Apologize(what="Sorry about the crushed cake"))
            await h.execute_update(WF.empathize, Empathize(customer_words="For my son"))
            await h.execute_update(WF.analyze_cause, AnalyzeCause(cause="Van", fault=Fault.OURS))
            rounds = 2 if name == "escalated" else 1
            for _ in range(rounds):
                await h.execute_update(
                    WF.offer_resolution,
                    OfferResolution(options=[OfferedRemedy(kind=RemedyKind.FREE_REDO)], plan="p"),
                )
                if name == "escalated":  # two declines go to the owner, no timer needed
                    await h.execute_update(
                        WF.record_customer_response, RecordCustomerResponse(decline_reason="no")
                    )

        queue = f'TaskQueue="{settings.task_queue}"'

        async def escalated() -> None:
            query = f'ComplaintStatus="escalated" AND EscalationLevel>=2 AND {queue}'
            assert await listed(page, ui_port, query) == {f"complaint-{ids['escalated']}"}

        await eventually(escalated, timeout=30)
        await page.screenshot(path=str(OUTPUT / "escalated-list.png"))
        waiting = await listed(page, ui_port, f'ComplaintStep="customer_response" AND {queue}')
        assert waiting == {f"complaint-{ids['awaiting']}"}

        case = ids["escalated"]
        case_page = f"http://127.0.0.1:{ui_port}/namespaces/default/workflows/complaint-{case}"
        # No credential (the dev server's UI sends none): the codec endpoint refuses, and the
        # page still loads, with its payloads sealed.
        answers: list[int] = []
        page.on(
            "response",
            lambda r: answers.append(r.status) if r.url.startswith(codec_endpoint) else None,
        )
        await page.goto(case_page)
        await page.wait_for_url("**/timeline", timeout=20_000)
        await page.get_by_text(f"complaint-{case}").first.wait_for()

        async def refused() -> None:
            assert 401 in answers, answers

        await eventually(refused, timeout=20)
        banner = page.locator("text=Codec Server could not connect >> visible=true")
        await banner.first.wait_for()  # the UI says why it shows payloads sealed
        assert 200 not in answers, answers
        await page.wait_for_timeout(1000)  # what would have been decoded has rendered
        sealed = await page.content()
        assert "The birthday cake arrived crushed" not in sealed
        assert "store resolution_declined" not in sealed
        await page.screenshot(path=str(OUTPUT / "case-sealed.png"), full_page=True)

        # A browser that sends a staff token (as a UI passing its credentials does).
        async def with_token(route: Route) -> None:
            token = {"authorization": f"Bearer {staff_tokens[STAFF]}"}
            await route.continue_(headers=route.request.headers | token)

        await page.route(f"{codec_endpoint}/**", with_token)
        answers.clear()
        await page.goto(case_page)
        await page.wait_for_url("**/timeline", timeout=20_000)
        await page.get_by_text("store resolution_declined, escalated").first.wait_for()
        assert 200 in answers and 401 not in answers, answers
        # Sealed in Temporal, shown decoded through the codec endpoint.
        await page.get_by_text("The birthday cake arrived crushed").first.wait_for()
        await page.get_by_text("customer's answer: wait limit").first.wait_for()
        await page.screenshot(path=str(OUTPUT / "case-timeline.png"), full_page=True)
        await page.get_by_role("tab", name="User Metadata").click()
        # The frames render after the tab opens (and the current details after a live query).
        summary = page.frame_locator("#user-metadata-summary")
        await summary.get_by_text(f"Complaint {case} · compensation · via phone").wait_for()
        details = page.frame_locator("#user-metadata-current-details")
        await details.get_by_text("Status: escalated").wait_for()
        text = await details.locator("body").inner_text()
        assert "Response target: 24 hours per step" in text  # the worker's rulebook, as snapshotted
        assert "Status: escalated" in text and "Escalation level: 2" in text
        assert "Done: apologize → empathize → analyze cause → offer resolution" in text
        assert "Kim" not in text and "1234" not in text
        await page.screenshot(path=str(OUTPUT / "case-metadata.png"), full_page=True)
        for name in ids.values():
            await client.get_workflow_handle(workflow_id(name)).terminate("test over")
