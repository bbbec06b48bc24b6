"""Request bodies. Each field's constraints are in the schema (`/openapi.json`) and the API
refuses exactly what the schema rules out: text that is empty or blank, too long, or holds a
character the application layer refuses (control characters, and whatever else the
rulebook's text type refuses), in the application layer's own words where it has them.
Nobody names the actor here: it is the token's staff member (extra fields are refused).

The set of refused characters is read from the domain's own text types when this module is
imported (each candidate character is tried), so the schema follows the rulebook."""

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema

from domain.commands import Apologize
from domain.model import Customer, Fault, IntakeChannel, Motive, RemedyKind

TEXT_MAX = 4000  # the rulebook's bound on free text (domain.model.Text)
NAME_MAX = 200
JSON_BODY_LIMIT = 64 * 1024  # bytes; larger bodies are refused with 413 (api.limits)


def _refused_by(check: Callable[[str], object]) -> str:
    """The characters `check` refuses inside a text, as a regex character class body.
    Candidates: control and format characters, separators and spaces (letters, marks and
    emoji are never refused)."""
    candidates = [
        c
        for c in range(0x10000)
        if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp", "Zs") and c != 0x0D
    ]
    refused = []
    for c in candidates:
        try:
            check(f"a{chr(c)}b")
        except (ValidationError, ValueError):
            refused.append(c)
    # CR only as part of CR LF. Lone surrogates are not characters (JSON Schema strings are
    # Unicode text) and are refused all the same, outside the pattern.
    refused.append(0x0D)
    return "".join(
        f"\\u{lo:04x}" if lo == hi else f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in _runs(refused)
    )


def _runs(codes: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for c in sorted(set(codes)):
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


_SURROGATE = re.compile("[\ud800-\udfff]")


@cache
def _text_class() -> str:
    return _refused_by(lambda t: Apologize(what=t))


def _field(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """One field of a model as the model validates it, alone (no other field is needed)."""
    info = model.model_fields[name]
    field: Any = Annotated[info.annotation, *info.metadata]
    return TypeAdapter(field)


_CUSTOMER_NAME = _field(Customer, "name")


@cache
def _name_class() -> str:
    return _refused_by(_CUSTOMER_NAME.validate_python)


def _pattern(refused: str) -> str:
    """Some character that is not white space, none refused, CR only before LF."""
    some = f"(?:[^{refused}]|\\r\\n)*"
    return f"^{some}[^{refused}\\s]{some}$"


def text_pattern() -> str:
    return _pattern(_text_class())


def name_pattern() -> str:
    return _pattern(_name_class())


def _checked(pattern: Callable[[], str], domain: Callable[[str], object]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        domain(value)  # the rulebook's own words for a character it refuses
        if re.fullmatch(pattern(), value) is None or _SURROGATE.search(value):
            raise ValueError("contains a character that is not allowed here (a lone CR?)")
        return value.replace("\r\n", "\n")

    return check


def _domain_text(value: str) -> None:
    try:
        Apologize(what=value)
    except ValidationError as err:
        raise ValueError(_reason(err)) from None


def _domain_name(value: str) -> None:
    try:
        _CUSTOMER_NAME.validate_python(value)
    except ValidationError as err:
        raise ValueError(_reason(err)) from None


def _reason(err: ValidationError) -> str:
    first = err.errors()[0]
    ctx = first.get("ctx") or {}
    return str(ctx["error"]) if "error" in ctx else str(first["msg"])


def _string(max_length: int, pattern: Callable[[], str]) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern()}
    )


def _bounded(max_length: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return check


# Free text staff wrote: 1 to 4000 characters, at least one not white space; line breaks and
# tabs are fine, control characters are not (nor what else the rulebook refuses).
Text = Annotated[
    str,
    AfterValidator(_bounded(TEXT_MAX)),  # counted as sent, before CR LF becomes LF
    AfterValidator(_checked(text_pattern, _domain_text)),
    _string(TEXT_MAX, text_pattern),
]
# A delay's reason goes to the customer in a KakaoTalk message: shorter (domain.commands).
DELAY_REASON_MAX = 300
DelayReason = Annotated[
    str,
    AfterValidator(_bounded(DELAY_REASON_MAX)),
    AfterValidator(_checked(text_pattern, _domain_text)),
    _string(DELAY_REASON_MAX, text_pattern),
]
Name = Annotated[
    str,
    AfterValidator(_bounded(NAME_MAX)),
    AfterValidator(_checked(name_pattern, _domain_name)),
    _string(NAME_MAX, name_pattern),
]


def staff_name_pattern() -> str:
    """A name as a customer's may be, on one line (no line break at all)."""
    refused = _name_class()
    return f"^[^{refused}\\r\\n]*[^{refused}\\s][^{refused}\\r\\n]*$"


# A staff member's name as `complaints staff add` took it: one line, at most 80 characters.
StaffName = Annotated[
    str,
    AfterValidator(_bounded(80)),
    AfterValidator(_checked(staff_name_pattern, _domain_name)),
    _string(80, staff_name_pattern),
]


# Whether a number exists is libphonenumber's knowledge, asked by the application layer (422
# in its words when it does not). The schema names the format only: no pattern or length can
# say which numbers exist, so it claims none it could not keep.
Phone = Annotated[str, WithJsonSchema({"type": "string", "format": "phone"})]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # left out means absent here, not null


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("leave the field out instead of sending null")
    return value


class NewCase(Body):
    name: Name = Field(description="the customer's name", examples=["Kim Minji"])
    phone: Phone = Field(
        description="the customer's phone: a domestic number (read as one of the shop's "
        "country) or an international one starting with +; one that does not exist is refused",
        examples=["010-1234-5678"],
    )
    channel: IntakeChannel
    motive: Motive
    what: Text = Field(description="what happened", examples=["The cake arrived crushed"])
    rename: StrictBool = Field(
        False,
        description="the phone is on file under another name: replace it with `name` "
        "(otherwise the name on file is kept and `name_kept` says so)",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Kim Minji",
                    "phone": "010-1234-5678",
                    "channel": "phone",
                    "motive": "compensation",
                    "what": "The cake arrived crushed",
                }
            ]
        },
    )


class Apology(Body):
    what: Text = Field(examples=["Sorry your cake was crushed on the way"])


class Empathy(Body):
    customer_words: Text = Field(examples=["It was for my son's birthday"])


class Cause(Body):
    cause: Text = Field(examples=["The box slid in the van"])
    fault: Fault


def _known_remedy(value: object) -> object:
    """An unknown kind refused in the CLI's words (`cases.remedy`)."""
    if isinstance(value, str) and value not in {k.value for k in RemedyKind}:
        known = ", ".join(k.value for k in RemedyKind)
        raise ValueError(f"unknown remedy {value!r}; known: {known}")
    return value


Kind = Annotated[RemedyKind, BeforeValidator(_known_remedy)]


class OfferedRemedy(Body):
    kind: Kind = Field(examples=["free_redo"])
    terms: Text | None = Field(None, examples=["a new cake delivered tomorrow by noon"])


def _at_most_once(kind: RemedyKind) -> dict[str, Any]:
    match = {"type": "object", "properties": {"kind": {"const": kind.value}}, "required": ["kind"]}
    return {"contains": match, "minContains": 0, "maxContains": 1}


def _distinct(options: list[OfferedRemedy]) -> list[OfferedRemedy]:
    kinds = [o.kind for o in options]
    if len(set(kinds)) != len(kinds):
        raise ValueError("each remedy may be offered once per offer")
    return options


class NewOffer(Body):
    plan: Text = Field(examples=["A new cake tomorrow by noon, or half back"])
    options: Annotated[list[OfferedRemedy], AfterValidator(_distinct)] = Field(
        min_length=1,
        max_length=6,
        description="1 to 6 remedies, each kind at most once",
        json_schema_extra={"allOf": [_at_most_once(k) for k in RemedyKind]},
        examples=[
            [{"kind": "free_redo", "terms": "a new cake tomorrow"}, {"kind": "partial_refund"}]
        ],
    )
    override_reason: Text | None = Field(
        None, description="the owner's reason for offering outside the policy (owner only)"
    )


class CustomerResponse(Body):
    """Either the chosen remedy or the reason the customer declines, not both."""

    # Left out, not null: "exactly one of them" is then what the schema's oneOf says.
    choice: Annotated[Kind | SkipJsonSchema[None], BeforeValidator(_not_null)] = Field(
        None, examples=["free_redo"], json_schema_extra=_no_default
    )
    decline_reason: Annotated[Text | SkipJsonSchema[None], BeforeValidator(_not_null)] = Field(
        None, json_schema_extra=_no_default
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["choice"], "not": {"required": ["decline_reason"]}},
                {"required": ["decline_reason"], "not": {"required": ["choice"]}},
            ]
        },
    )


class Prevention(Body):
    measure: Text = Field(examples=["Non-slip mats in both vans"])


def _whole(value: object) -> object:
    """2.0 is the integer 2 in JSON (and in its schema); "2" and true are not numbers."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class Satisfaction(Body):
    score: Annotated[StrictInt, BeforeValidator(_whole)] = Field(
        ge=1, le=5, examples=[5], description="1 to 5"
    )
    comment: Text | None = Field(None, examples=["The new cake was perfect"])


class Delay(Body):
    until: AwareDatetime = Field(
        description="the new due time of the step now due, with its offset; later than the "
        "current one, at most 30 days ahead",
        examples=["2026-12-08T15:00:00+09:00"],
    )
    reason: DelayReason = Field(
        description="why it will be late, as the customer reads it (at most 300 characters)",
        examples=["The replacement part arrives on Tuesday"],
    )


class Withdrawal(Body):
    reason: Text = Field(examples=["Customer settled it in the shop"])


class Visit(Body):
    phone: Phone = Field(description="the customer's phone", examples=["010-1234-5678"])
    name: Name | None = Field(None, examples=["Kim Minji"])
    referred_by: Phone | None = Field(
        None,
        description="the phone of the customer who referred them (first visit only): both "
        "get the referral reward",
        examples=["010-8765-4321"],
    )


class ConsentChange(Body):
    """Consent to advertising messages as the customer gave or withdrew it."""

    phone: Phone = Field(description="the customer's phone", examples=["010-1234-5678"])
    given: StrictBool = Field(description="true: consent given; false: withdrawn", examples=[True])
    night: StrictBool = Field(
        False,
        description="the separate consent for 21:00-08:00 (withdrawn alone when given is false)",
    )


class SignInLinkRequest(Body):
    """Whose sign-in link: an active staff member, by name as `complaints staff list` shows it."""

    name: StaffName = Field(examples=["Lee Jiwoo"])
