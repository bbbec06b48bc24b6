"""The port the outbox delivers through: a notice as it hands one over, the Sender it hands
it to, and what a delivery reports back. Defined beside the outbox that uses it, so storage
needs nothing from the senders (notify/) that implement it."""

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, cast, get_args, runtime_checkable

# A notice as the outbox hands it over: its row (`id`, `case_id`, `kind`, `recipient`,
# `message`, `data`, `created_at`, `not_before`), a customer's address filled into `data`.
NoticeRow = dict[str, Any]


# What became of a message: the provider delivered it (`sent`), delivered it as SMS/LMS
# because the number has no KakaoTalk (`fallback_sms`), took it without a final result yet
# (`accepted`), or refused it for good (`failed`: a wrong number, a template mismatch;
# trying again cannot help).
Result = Literal["sent", "fallback_sms", "accepted", "failed"]


@dataclass(frozen=True)
class Delivery:
    """A delivery's outcome as the outbox records it (`notifications.delivery`); provider
    ids to look it up again, never the number or the text."""

    result: Result
    provider: str
    channel: str = ""  # ATA (KakaoTalk notification), SMS or LMS
    group_id: str = ""
    message_id: str = ""
    status_code: str = ""
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


class Sender(Protocol):
    async def send(self, notice: NoticeRow) -> Delivery | None:
        """Deliver `notice` once, or raise: the outbox keeps it and tries again later. The
        notice's `id` goes with every delivery, so a receiver can drop a repeat. A sender
        that knows more than "delivered" says so in a Delivery."""
        ...


@runtime_checkable
class Rechecker(Protocol):
    async def recheck(self, accepted: Delivery) -> Delivery | None:
        """What became of a message the provider had accepted without a final result: its
        result now (`accepted` again while it is still on its way), or None when the sender
        cannot tell."""
        ...


def delivery_of(recorded: dict[str, Any]) -> Delivery:
    """A Delivery as `as_json` stored it."""
    result = str(recorded.get("result"))
    known = cast(Result, result if result in get_args(Result) else "accepted")
    ids = ("channel", "group_id", "message_id", "status_code", "detail")
    return Delivery(
        known, str(recorded.get("provider", "")), *(str(recorded.get(k, "")) for k in ids)
    )
