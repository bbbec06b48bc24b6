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


class NoTargetToDelay(DomainError):
    """A delay moves the target of the step now due; there is none while the customer
    decides, after prevention, or once the top escalation level has been told."""


class DeadlinePassed(DomainError):
    """Bad news goes out before the deadline: past it, the case was escalated instead."""


class CalendarClosed(DomainError):
    """The shop's calendar has no opening hours for a year: business time cannot pass."""
