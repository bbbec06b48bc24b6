"""What an event causes: the case's next state, and the notices it owes someone, each with
the time it may go out. The workflow (which holds a notice back on a timer) and the event
store (which writes the outbox rows) both ask this one function, so they agree."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain.calendar import QuietHours
from domain.decider import evolve
from domain.events import Event
from domain.model import CaseState
from domain.notifications import CUSTOMER, Language, Notice, held_until, notices_for
from domain.policy import DEFAULT_ESCALATION_CONTACTS


@dataclass(frozen=True)
class Voice:
    """How a case opened before its rules kept them words and addresses its notices (the
    worker's settings): their language, who hears of each escalation level, the zone of a
    case without a calendar of its own, and the quiet hours of a case whose rules hold none.
    A newer case's own rules (`CarePolicy.language`, `.contacts`, its calendar's zone) come
    first."""

    language: Language = "ko"
    contacts: tuple[str, ...] = DEFAULT_ESCALATION_CONTACTS
    zone: str = "Asia/Seoul"
    quiet_hours: QuietHours | None = None


DEFAULT_VOICE = Voice()


class Outgoing(NamedTuple):
    notice: Notice
    not_before: datetime | None  # None: it may go out at once


class Effects(NamedTuple):
    state: CaseState
    notices: list[Outgoing]


def effects(state: CaseState | None, event: Event, voice: Voice = DEFAULT_VOICE) -> Effects:
    """The state after `event`, and the notices it causes with when each may go out.

    Everything comes from the case's rules (snapshotted when it opened, changed by
    `rules_changed`): the hold, the language, the contacts, the zone. So the workflow, which
    passes no voice, and the event store, which passes the worker's, work out the same
    notices for every case whose rules keep them. The voice fills in only what an older
    case's rules lack; the workflow keeps of a notice its kind and its hold, which only an
    old case's quiet hours would move (such a notice waits in the outbox, where the sweep
    sends it), so recorded histories replay as they ran.
    """
    after = evolve(state, event)
    care = after.care
    language = care.language or voice.language
    contacts = care.contacts or voice.contacts
    return Effects(
        after,
        [
            Outgoing(notice, may_go_out(notice, after, event.at, voice.quiet_hours))
            for notice in notices_for(event, after, language, contacts, voice.zone)
        ],
    )


def may_go_out(
    notice: Notice, state: CaseState, at: datetime, old_quiet: QuietHours | None = None
) -> datetime | None:
    """When a notice written at `at` may go out, if not at once: by the case's rules
    (notifications.held_until), or for a customer of a case whose rules predate quiet
    hours, by `old_quiet`."""
    if notice.recipient == CUSTOMER and state.care.quiet_hours is None and old_quiet is not None:
        allowed = old_quiet.next_allowed(at)
        return allowed if allowed > at else None
    return held_until(notice, state, at)
