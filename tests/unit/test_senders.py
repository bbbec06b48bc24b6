"""Which sender a notice goes to: by its recipient, as the settings choose."""

import asyncio

import pytest

from infra.settings import Settings
from notify.registry import Registry, senders_for
from notify.senders import LogSender
from notify.webhook import WebhookSender
from store.delivery import NoticeRow
from tests.webhook import SECRET


class Kept:
    """A sender that keeps what it is given."""

    def __init__(self, timeout: float | None = None) -> None:
        self.sent: list[NoticeRow] = []
        if timeout is not None:
            self.timeout = timeout

    async def send(self, notice: NoticeRow) -> None:
        self.sent.append(notice)


def notice(recipient: str) -> NoticeRow:
    return {"id": "n1", "case_id": "c0ffee", "kind": "k", "recipient": recipient, "message": "m"}


@pytest.mark.parametrize(
    ("recipient", "goes_to"),
    [
        ("customer", "customer"),
        ("staff", "staff"),
        ("manager", "escalation"),
        ("owner", "escalation"),
    ],
)
def test_each_notice_goes_to_its_recipient_s_sender(recipient: str, goes_to: str) -> None:
    senders = {"customer": Kept(), "staff": Kept(), "escalation": Kept()}
    registry = Registry(**senders)
    asyncio.run(registry.send(notice(recipient)))
    assert {name: len(s.sent) for name, s in senders.items()} == {
        name: int(name == goes_to) for name in senders
    }


def test_a_claim_outlasts_the_slowest_sender() -> None:
    assert Registry(Kept(3), Kept(), Kept(25)).timeout == 25
    assert Registry(Kept(), Kept(), Kept()).timeout == 10


def test_the_webhook_serves_everyone_when_configured_else_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("COMPLAINTS_WEBHOOK_URL", "COMPLAINTS_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    logged = senders_for(Settings())
    assert all(isinstance(s, LogSender) for s in (logged.customer, logged.staff, logged.escalation))
    monkeypatch.setenv("COMPLAINTS_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("COMPLAINTS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("COMPLAINTS_WEBHOOK_TIMEOUT", "4s")
    hooked = senders_for(Settings())
    assert isinstance(hooked.customer, WebhookSender) and hooked.customer.url.endswith("/hook")
    assert hooked.staff is hooked.customer and hooked.escalation is hooked.customer
    assert hooked.timeout == 4


@pytest.mark.parametrize("recipient", ["staff", "manager", "owner"])
def test_a_staff_notice_links_to_the_case_page_not_to_the_customer(recipient: str) -> None:
    kept = Kept()
    registry = Registry(kept, kept, kept, staff_link="https://shop.example/")
    asyncio.run(registry.send(notice(recipient)))
    [sent] = kept.sent
    assert sent["link"] == "https://shop.example/staff/cases/c0ffee"
    assert sent["message"] == "m\nhttps://shop.example/staff/cases/c0ffee"


def test_a_notice_to_the_customer_carries_no_staff_link() -> None:
    kept = Kept()
    asyncio.run(
        Registry(kept, kept, kept, staff_link="https://shop.example").send(notice("customer"))
    )
    assert kept.sent == [notice("customer")]


def test_the_settings_give_the_staff_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_PUBLIC_URL", "https://complaints.bakery.kr")
    assert senders_for(Settings()).staff_link == "https://complaints.bakery.kr"
