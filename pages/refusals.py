"""A refusal as the page's language says it. The application layer words each refusal once,
in English, as the CLI and the API show it; the pages read that line back against the
shapes below and say it again from the catalogue (`refusal.*`), each named step, motive,
fault, status, role and remedy in the page's language. A line of no known shape is said by
its kind (`refusal.kind.*`), never in another language than the page's.

tests/unit/test_page_refusals.py raises every refusal the pages can show and checks that
each has its shape here (the English read back is the line itself, word for word)."""

import re

from app.refusals import InvalidInput, Refusal
from pages.catalogue import Catalogue

_ID = r"'?(?P<case_id>[0-9a-z_-]+)'?"
_QUOTED = r"'(?P<case_id>.*)'"  # an id as typed, quoted: anything may be in it
_NAMES = r"[a-z_ ]+"
_LIST = r"[a-z_ ,]+"

# (catalogue key, the English line's shape): the first that matches the whole line wins.
SHAPES: list[tuple[str, str]] = [
    ("closed", rf"case {_ID} is (?P<status>{_NAMES}); nothing more can be recorded"),
    (
        "awaiting_answer",
        rf"case {_ID} is waiting for the customer's answer to offer round (?P<round>\d+); "
        r"record it with `answer` first",
    ),
    (
        "awaiting_follow_up",
        rf"case {_ID} is resolved and waiting for the follow-up; record the customer's "
        r"satisfaction with `rate`",
    ),
    (
        "step_done",
        rf"case {_ID}: (?P<step>{_NAMES}) is already done; the next step is (?P<expected>.+)",
    ),
    (
        "step_order",
        rf"case {_ID} is waiting for (?P<expected>.+), not (?P<step>{_NAMES}); "
        r"done so far: (?P<done>.+)",
    ),
    (
        "remedy_not_allowed",
        rf"case {_ID}: (?P<outside>{_LIST}) is not offered when the motive is "
        rf"(?P<motive>{_NAMES}) and the fault is (?P<fault>{_NAMES}); allowed: "
        rf"(?P<allowed>{_LIST}) \(recommended: (?P<recommended>{_NAMES})\)\. "
        r"The owner can override with a reason\.",
    ),
    (
        "remedy_not_offered",
        rf"case {_ID}: (?P<choice>{_NAMES}) was not offered in round (?P<round>\d+); "
        rf"the customer can choose from: (?P<offered>{_LIST})",
    ),
    ("no_offer", rf"case {_ID} has no open offer to answer \(it is at (?P<stage>{_NAMES})\)"),
    (
        "delay_deciding",
        rf"case {_ID} has no response target to move now \(the customer is deciding on the "
        r"offer\)",
    ),
    (
        "delay_resolved",
        rf"case {_ID} has no response target to move now \(prevention is shown; the "
        r"follow-up call is ahead\)",
    ),
    (
        "delay_top",
        rf"case {_ID} has no response target to move now \(the top escalation level has "
        r"been told\)",
    ),
    (
        "delay_past",
        rf"case {_ID}: the (?P<step>{_NAMES}) was due by (?P<due>.+); a delay is announced "
        r"before the deadline \(past it, the case is escalated\)",
    ),
    (
        "delay_not_later",
        rf"case {_ID}: the (?P<step>{_NAMES}) is due by (?P<due>.+) already; give a later time",
    ),
    (
        "delay_too_far",
        rf"case {_ID}: (?P<until>.+) is more than (?P<days>\d+) days away; give the time the "
        r"work will really be ready",
    ),
    (
        "not_resolved",
        rf"case {_ID} is not resolved yet \(it is at (?P<stage>{_NAMES})\); satisfaction is "
        r"recorded at the follow-up after prevention is shown",
    ),
    ("not_stored", rf"case {_ID}: .+ could not be stored, nothing was recorded: .*"),
    ("already_open", rf"case {_ID} is already open"),
    ("no_case", rf"no case {_QUOTED}: check the id with `complaints list`"),
    ("no_open_case", rf"no open case {_QUOTED}: check the id with `complaints list`"),
    (
        "forbidden",
        r"(?P<name>.+) is (?P<role>[a-z]+): only (?P<who>[a-z ,]+) may (?P<doing>.+)",
    ),
    ("being_opened", rf"case {_ID} is still being opened; try again in a moment"),
    ("not_stored_yet", rf"case {_ID} exists and will be stored as soon as a worker runs .+"),
    ("no_worker", rf"case {_ID}: no worker answered .+"),
    (
        "key_reused",
        rf"this idempotency key already opened case {_ID} with other details; "
        r"use a new key for a new complaint",
    ),
    ("id_taken", rf"case id {_ID} is taken by another case"),
    ("unknown_remedy", r"unknown remedy '(?P<value>.*)'; known: .+"),
    ("no_action", r"no action '(?P<value>.*)' on a case"),
    ("not_a_date", r"'(?P<value>.*)' is not a date \(YYYY-MM-DD\)"),
    ("date_range", r"(?P<value>\S+) is out of range: dates run from 1900 to 9998"),
    ("no_session", r"no live session (?P<value>\d+)"),
    ("page_start", r"limit and page start at 1"),
    ("no_database", r"(cannot reach PostgreSQL|PostgreSQL refused this user|no database).*"),
    ("no_temporal", r"cannot reach Temporal at .+"),
]
# The reason of one field (`field: reason`), as the rulebook's types and the forms word it.
REASONS: list[tuple[str, str]] = [
    ("empty", r"must not be empty|is required|required"),
    ("too_short", r"must be at least (?P<count>\d+) characters"),
    ("too_long", r"(must be at most|is longer than) (?P<count>\d+) characters"),
    (
        "invisible",
        r"contains the invisible character U\+(?P<code>[0-9A-F]{4,6}) at position "
        r"(?P<position>\d+)[;,] .*remove it.*",
    ),
    (
        "control",
        r"contains the (?P<what>.+) U\+(?P<code>[0-9A-F]{4,6}) at position (?P<position>\d+)"
        r"[;,] .*remove it.*",
    ),
    ("phone", r"phone number '.*' is not valid \(.+\): give a domestic number, .+"),
    ("not_one_of", r"'(?P<value>.*)' is not one of .+"),
    ("choose", r"Input should be .+"),
    ("blank", r"replace (?P<blank>\[.+\]) with what happened"),
    ("score", r"choose a score from 1 to 5"),
    ("answer", r"choose the option taken, or declined"),
    ("once_per_offer", r"each remedy may be offered once per offer"),
    ("choice_or_reason", r"give either the chosen option or the reason for declining"),
    ("one_line", r"one line of at most (?P<count>\d+) characters"),
    ("at_most", r"at most (?P<count>\d+) characters"),
]
_SHAPES = [(key, re.compile(shape)) for key, shape in SHAPES]
_REASONS = [(key, re.compile(shape)) for key, shape in REASONS]
_FIELD_LINE = re.compile(r"(?P<field>[A-Za-z_.-]+): (?P<reason>.+)")
_PLURALS = {
    "staff": "staff",
    "managers": "manager",
    "the owner": "owner",
    "intake systems": "intake",
    "the customer": "customer",
}
_NONE = {"no further step": "refusal.no_next", "nothing yet": "refusal.nothing_yet"}


class Said(InvalidInput):
    """A refusal the pages word themselves, already in the page's language."""


def said(err: Refusal, t: Catalogue) -> str:
    """The refusal's one line in the page's language."""
    if t.language == "en" or isinstance(err, Said):
        return err.message  # the application layer's own words, as the CLI says them
    message = err.message.strip()
    for key, shape in _SHAPES:
        found = shape.fullmatch(message)
        if found:
            return t(f"refusal.{key}", **_values(found.groupdict(), t))
    fields = _fields(err)
    if all(field is not None for field, _ in fields):
        return " ".join(_field(field or "", reason, t) for field, reason in fields)
    kind = "refusal.kind." + err.kind.replace("-", "_")
    return t(kind) if t.has(kind) else t("refusal.other")


def known(err: Refusal) -> bool:
    """Whether the refusal has a shape of its own here (not only its kind)."""
    message = err.message.strip()
    if any(shape.fullmatch(message) for _, shape in _SHAPES):
        return True
    return all(f is not None and _reason_key(r) is not None for f, r in _fields(err))


def _fields(err: Refusal) -> list[tuple[str | None, str]]:
    """The (field, reason) pairs of a refusal about fields; None for a part naming none."""
    if isinstance(err, InvalidInput) and err.fields:
        return list(err.fields)
    return [_split(part) for part in err.message.strip().split("; ")]


def _split(part: str) -> tuple[str | None, str]:
    found = _FIELD_LINE.fullmatch(part)
    return (found["field"], found["reason"]) if found else (None, part)


def _reason_key(reason: str) -> tuple[str, dict[str, str]] | None:
    for key, shape in _REASONS:
        found = shape.fullmatch(reason.strip())
        if found:
            return key, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def _field(field: str, reason: str, t: Catalogue) -> str:
    name = field.lstrip("-")
    label = t(f"refusal.field.{name}") if t.has(f"refusal.field.{name}") else name
    keyed = _reason_key(reason)
    if keyed is None:
        return t("refusal.reason.other", field=label)
    key, values = keyed
    return t(f"refusal.reason.{key}", field=label, **values)


_ONE = ("step", "expected", "stage", "status", "motive", "fault", "role", "choice", "recommended")
_MANY = ("done", "allowed", "offered", "outside")


def _values(groups: dict[str, str | None], t: Catalogue) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in groups.items():
        if value is None:
            continue
        if key in _ONE:
            out[key] = _name(value, t)
        elif key in _MANY:
            out[key] = ", ".join(_name(v, t) for v in value.split(", "))
        elif key == "who":
            roles = re.split(r", | and ", value)
            out[key] = ", ".join(t.name(_PLURALS.get(r, r)) for r in roles)
        else:
            out[key] = value
    return out


def _name(text: str, t: Catalogue) -> str:
    if text in _NONE:
        return t(_NONE[text])
    return t.name(text.strip().replace(" ", "_"))
