"""What `forget` leaves of each event (domain.redaction): no text anyone typed, whatever the
event; the facts as they were. A new event or a new text field fails here until redaction
says what becomes of it."""

import types
import typing
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from domain.events import Event
from domain.model import Customer, Remedy, RemedyKind
from domain.redaction import REDACTED, redacted

TYPED = "typed by someone: Lee Jiwoo, 010-2345-6789"
# Texts that are no one's words about the case: ids, who of the staff acted, the type tag,
# and the reason the shop's own rules changed (a rule or a closed day).
NOT_FREE_TEXT = {"type", "by", "case_id", "customer_id", ("rules_changed", "reason")}
EVENT_CLASSES: list[type[BaseModel]] = list(get_args(get_args(Event)[0]))


def _is(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    if get_origin(annotation) in (typing.Union, types.UnionType, tuple):
        return any(_is(a, kind) for a in get_args(annotation))
    return False


def _texts(cls: type[BaseModel]) -> dict[str, Any]:
    """The event's fields that can hold typed text, each with such a value."""
    name = cls.model_fields["type"].default
    values: dict[str, Any] = {}
    for field, info in cls.model_fields.items():
        if field in NOT_FREE_TEXT or (name, field) in NOT_FREE_TEXT:
            continue
        remedy = Remedy(kind=RemedyKind.FULL_REFUND, terms=TYPED)
        if _is(info.annotation, Remedy):
            values[field] = (remedy,) if get_origin(info.annotation) is tuple else remedy
        elif _is(info.annotation, Customer):
            values[field] = Customer(name="Lee Jiwoo", phone="010-2345-6789")
        elif _is(info.annotation, str) and get_origin(info.annotation) is not typing.Literal:
            values[field] = TYPED
    return values


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_no_typed_text_survives(cls: type[BaseModel]) -> None:
    event = cls.model_construct(**_texts(cls))
    after = redacted(event, "cus-forgotten1")  # type: ignore[arg-type]
    assert type(after) is cls
    left = after.model_dump_json()
    assert "Lee" not in left and "2345" not in left and "typed" not in left, left
    for field in _texts(cls):
        value = getattr(after, field)
        assert value in (None, REDACTED) or REDACTED in str(value), (field, value)


def test_facts_stay() -> None:
    cls = next(c for c in EVENT_CLASSES if c.model_fields["type"].default == "resolution_accepted")
    event = cls.model_construct(remedy=Remedy(kind=RemedyKind.FREE_REDO, terms=TYPED), by="Kim")
    after = redacted(event, "cus-forgotten1")  # type: ignore[arg-type]
    assert after.remedy.kind == RemedyKind.FREE_REDO and after.by == "Kim"  # type: ignore[union-attr]


def _of(kind: str) -> type[BaseModel]:
    return next(c for c in EVENT_CLASSES if c.model_fields["type"].default == kind)


def test_the_remedies_offered_and_given_keep_their_kinds_and_the_opening_its_reference() -> None:
    """What reports count stays: which remedies were offered, which compensation a delay
    gave, and the case's customer reference (the forgotten one)."""
    typed = Remedy(kind=RemedyKind.FREE_REDO, terms=TYPED)
    offered = redacted(
        _of("resolution_offered").model_construct(plan=TYPED, options=(typed,)), "cus-x"
    )  # type: ignore[arg-type]
    assert [(o.kind, o.terms) for o in offered.options] == [(RemedyKind.FREE_REDO, REDACTED)]  # type: ignore[union-attr]
    delay = _of("delay_recorded").model_construct(reason=TYPED, compensation=typed)
    delayed = redacted(delay, "cus-x")  # type: ignore[arg-type]
    assert delayed.compensation == Remedy(kind=RemedyKind.FREE_REDO, terms=REDACTED)  # type: ignore[union-attr]
    opened = _of("case_opened").model_construct(summary=TYPED, customer_id="cus-before")
    assert redacted(opened, "cus-forgotten1").customer_id == "cus-forgotten1"  # type: ignore[arg-type,union-attr]
