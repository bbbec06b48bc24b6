"""Refusals: one type per kind, each with a message staff can act on."""


class DomainError(Exception):
    """A command that is not allowed now; nothing is written when one is raised."""


class CaseNotOpen(DomainError):
    pass


class CaseAlreadyOpen(DomainError):
    pass


class CaseClosed(DomainError):
    pass


class StepOutOfOrder(DomainError):
    pass


class InvalidPhone(DomainError, ValueError):
    """Also a ValueError so pydantic reports it as a field error."""


class RemedyNotAllowed(DomainError):
    pass


class NotAwaitingCustomer(DomainError):
    pass


class NotResolved(DomainError):
    pass


class CalendarClosed(DomainError):
    """The shop's calendar has no opening hours for a year: business time cannot pass."""
