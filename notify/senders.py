"""The log sender, used where no other is configured (the interface: store/delivery.py)."""

import structlog

from store.delivery import NoticeRow

log = structlog.get_logger(__name__)


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
