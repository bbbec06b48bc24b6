"""Refusals: one hierarchy, one kind each. The CLI prints the message on one line and exits
with `exit_code`; the API answers problem+json with `status` and `kind` as its type."""

from collections.abc import Mapping, Sequence
from typing import ClassVar


class Refusal(Exception):
    """An action not done, with one line that says why and what to do."""

    kind: ClassVar[str] = "refused"
    title: ClassVar[str] = "Refused"
    status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    @property
    def message(self) -> str:
        return str(self)


class NotFound(Refusal):
    kind, title, status = "not-found", "No such case", 404


class Conflict(Refusal):
    """A step out of order, an ended case, an idempotency key reused with other details."""

    kind, title, status = "conflict", "Not possible now", 409


class InvalidInput(Refusal):
    """Input refused by its form. `fields` holds (field, reason) pairs with the field as
    the API names it, so each door can name it as its user typed it (`what`, `--what`)."""

    kind, title, status = "invalid-input", "Invalid input", 422

    def __init__(self, message: str, fields: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields

    @classmethod
    def about(cls, fields: Sequence[tuple[str, str]]) -> "InvalidInput":
        return cls("; ".join(f"{field}: {reason}" for field, reason in fields), tuple(fields))

    def spelled(self, names: Mapping[str, str]) -> str:
        """The message with each field named as in `names` (e.g. the CLI's flags)."""
        if not self.fields:
            return self.message
        return "; ".join(f"{names.get(field, field)}: {reason}" for field, reason in self.fields)


class Unauthorized(Refusal):
    """No identity, or one that is not (or no longer) a staff member's."""

    kind, title, status = "unauthorized", "Not a staff member", 401


class Forbidden(Refusal):
    kind, title, status = "forbidden", "Not allowed for this role", 403


class TooMany(Refusal):
    """A limit on how much may come at once (a shop's openings a minute, the public form's
    flood limits): try again later."""

    kind, title, status = "too-many", "Too many at once", 429


class Unavailable(Refusal):
    """Temporal, PostgreSQL or a worker did not answer: nothing is wrong with the request."""

    kind, title, status = "unavailable", "Service unavailable", 503


class NotStoredYet(Unavailable):
    """The case exists in Temporal but no worker has stored its opening yet."""

    kind, title, exit_code = "not-stored-yet", "Accepted, not stored yet", 3


class CaseIdTaken(Conflict):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case id {case_id} is taken by another case")


ALL: tuple[type[Refusal], ...] = (
    NotFound,
    Conflict,
    InvalidInput,
    Unauthorized,
    Forbidden,
    Unavailable,
    NotStoredYet,
)
