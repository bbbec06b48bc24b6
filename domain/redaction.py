"""A forgotten customer's case, with every free text gone: what `forget` leaves of each event.

The facts stay (times, motive, channel, fault, remedy kinds, scores, steps, who of the staff
acted), so the fold of the redacted events is the case as reports count it, and a rebuild
gives the very row `forget` wrote. Every text anyone typed about the case (the complaint, the
apology, the customer's words, the cause, plans and terms, measures, reasons, comments) is
replaced by REDACTED; the customer's name and phone, by their reference.
"""

from typing import assert_never

from domain.events import (
    Apologized,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CaseWithdrawn,
    CauseAnalyzed,
    CustomerWaitExceeded,
    DelayRecorded,
    Empathized,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    OverrideRequested,
    PolicyOverridden,
    PreventionShown,
    ResolutionAccepted,
    ResolutionDeclined,
    ResolutionOffered,
    ResponseDueSoon,
    RulesChanged,
    SatisfactionRecorded,
)
from domain.model import Remedy

REDACTED = "[removed]"  # the same in every language: a text that was there and is gone


def _remedy(remedy: Remedy) -> Remedy:
    return remedy.model_copy(update={"terms": REDACTED})


def redacted(event: Event, customer_id: str) -> Event:
    """`event` without free text, its customer named only by `customer_id`."""
    match event:
        case CaseOpened():
            return event.model_copy(
                update={"summary": REDACTED, "customer": None, "customer_id": customer_id}
            )
        case Apologized():
            return event.model_copy(update={"what": REDACTED})
        case Empathized():
            return event.model_copy(update={"customer_words": REDACTED})
        case CauseAnalyzed():
            return event.model_copy(update={"cause": REDACTED})
        case PolicyOverridden() | OverrideRequested() | ResolutionDeclined() | CaseWithdrawn():
            return event.model_copy(update={"reason": REDACTED})
        case ResolutionOffered():
            options = tuple(_remedy(o) for o in event.options)
            return event.model_copy(update={"plan": REDACTED, "options": options})
        case ResolutionAccepted():
            return event.model_copy(update={"remedy": _remedy(event.remedy)})
        case PreventionShown() | ImprovementReported():
            return event.model_copy(update={"measure": REDACTED})
        case SatisfactionRecorded():
            return event.model_copy(update={"comment": None})
        case DelayRecorded():
            compensation = event.compensation and _remedy(event.compensation)
            return event.model_copy(update={"reason": REDACTED, "compensation": compensation})
        case (
            CustomerWaitExceeded()
            | FollowUpDue()
            | CaseReopened()
            | CaseClosed()
            | ResponseDueSoon()
            | Escalated()
            | RulesChanged()  # its reason is the shop's own (a rule or a closed day)
        ):
            return event
        case _:  # a new event must say what of it is free text
            assert_never(event)
