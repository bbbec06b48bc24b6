"""The sender interface, and the log sender used where no other is configured."""

from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

# A notice as the outbox hands it over: its row (`id`, `case_id`, `kind`, `recipient`,
# `message`, `data`, `created_at`, `not_before`), a customer's address filled into `data`.
NoticeRow = dict[str, Any]


class Sender(Protocol):
    async def send(self, notice: NoticeRow) -> None:
        """Deliver `notice` once, or raise: the outbox keeps it and tries again later. The
        notice's `id` goes with every delivery, so a receiver can drop a repeat."""
        ...


class LogSender:
    """A structured log line per notice. A staff notice is logged whole; one to the
    customer only by kind, since its text and address are the customer's."""

    async def send(self, notice: NoticeRow) -> None:
        to_staff = notice["recipient"] != "customer"
        log.info(
            "notification",
            case_id=notice["case_id"],
            notice_id=notice["id"],
            kind=notice["kind"],
            recipient=notice["recipient"],
            **({"message": notice["message"]} if to_staff else {}),
        )
