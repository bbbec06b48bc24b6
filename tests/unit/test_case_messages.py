"""What staff read of each customer message on the case page: its outbox row in words."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.inbox import message_of
from pages.catalogue import Catalogue
from pages.view import message_lines

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "kind": "case_received",
        "created_at": NOW - timedelta(minutes=5),
        "sent_at": None,
        "not_before": None,
        "sending": False,
        "last_error": None,
        "delivery": None,
    }
    return base | changes


@pytest.mark.parametrize(
    ("changes", "state", "words"),
    [
        ({"sent_at": NOW, "delivery": {"result": "sent"}}, "sent", "카카오톡으로 도착"),
        (
            {"sent_at": NOW, "delivery": {"result": "fallback_sms", "channel": "LMS"}},
            "fallback_sms",
            "카카오톡이 없어 문자로 도착",
        ),
        ({"sent_at": NOW, "delivery": {"result": "accepted"}}, "accepted", "도착 확인 중"),
        (
            {"sent_at": NOW, "delivery": {"result": "failed", "detail": "invalid number"}},
            "failed",
            "보내지 못함",
        ),
        (
            {"sent_at": NOW, "last_error": "not sent: the customer asked for no messages"},
            "not_sent",
            "보내지 않음",
        ),
        (
            {"not_before": NOW + timedelta(hours=9)},
            "held",
            "대기 중 · 12월 7일 (월) 오후 9:00에 보냄",
        ),
        ({"sending": True}, "sending", "보내는 중"),
        ({"last_error": "ProviderUnavailable: 429"}, "retrying", "다시 보내는 중"),
        ({}, "waiting", "보낼 차례를 기다리는 중"),
    ],
)
def test_each_outbox_row_reads_as_one_state_in_korean(
    changes: dict[str, Any], state: str, words: str
) -> None:
    message = message_of(row(**changes), NOW)
    assert message.state == state
    (line,) = message_lines([message], "Asia/Seoul", Catalogue("ko"))
    assert line.title == "접수 안내" and words in line.state
    assert line.tone == {"sent": "ok", "fallback_sms": "ok", "failed": "bad"}.get(
        state, "bad" if state == "not_sent" else "wait"
    )
    if state in ("failed", "not_sent"):
        assert line.detail, "the reason shows"
