"""The care method: offers within policy, the customer's choice, follow-up, improvement."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.clock import finished
from domain.commands import (
    AnalyzeCause,
    Apologize,
    CheckClock,
    Command,
    Empathize,
    OfferedRemedy,
    OfferResolution,
    RecordCustomerResponse,
    RecordSatisfaction,
    ShowPrevention,
)
from domain.decider import decide, evolve
from domain.errors import NotAwaitingCustomer, NotResolved, RemedyNotAllowed, StepOutOfOrder
from domain.events import (
    CaseClosed,
    CaseReopened,
    CustomerWaitExceeded,
    Escalated,
    Event,
    FollowUpDue,
    ImprovementReported,
    PolicyOverridden,
    ResolutionOffered,
)
from domain.model import CaseState, CaseStatus, CustomerProfile, Fault, Motive, RemedyKind, Tier
from domain.policy import response_targets, tier_for
from tests.helpers import open_command

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
K = RemedyKind


class Case:
    """A case driven through decide/evolve with a clock the test moves."""

    def __init__(self, motive: Motive = Motive.COMPENSATION, tier: Tier = Tier.BRONZE) -> None:
        command = open_command("c0ffee", motive=motive).model_copy(
            update={"profile": CustomerProfile(visits=1, tier=tier)}
        )
        self.now = T0
        self.state: CaseState = evolve(None, decide(command, None, T0)[0])
        self.events: list[Event] = []

    def do(self, command: Command, after: timedelta = timedelta(minutes=5)) -> list[Event]:
        self.now += after
        new = decide(command, self.state, self.now)
        for e in new:
            self.state = evolve(self.state, e)
        self.events += new
        return new

    def tick(self, after: timedelta) -> list[Event]:
        return self.do(CheckClock(), after)

    def to_offer(self, fault: Fault = Fault.OURS) -> "Case":
        self.do(Apologize(what="Sorry the repair failed"))
        self.do(Empathize(customer_words="I took a day off for this"))
        self.do(AnalyzeCause(cause="Wrong part fitted", fault=fault))
        return self


def offer(*kinds: RemedyKind, override: str | None = None) -> OfferResolution:
    return OfferResolution(
        options=[OfferedRemedy(kind=k) for k in kinds], plan="Your choice", override_reason=override
    )


def test_compensation_customer_chooses_and_the_case_goes_on_to_prevention() -> None:
    case = Case().to_offer()
    [offered] = case.do(offer(K.FREE_REDO, K.PARTIAL_REFUND))
    assert isinstance(offered, ResolutionOffered) and offered.round == 1
    assert offered.options[1].terms == "50 % of the price refunded"
    assert case.state.status == CaseStatus.AWAITING_CUSTOMER
    with pytest.raises(StepOutOfOrder, match="waiting for the customer's answer to offer round 1"):
        case.do(ShowPrevention(measure="x"))
    with pytest.raises(RemedyNotAllowed, match="full_refund was not offered in round 1"):
        case.do(RecordCustomerResponse(choice=K.FULL_REFUND))
    case.do(RecordCustomerResponse(choice=K.PARTIAL_REFUND))
    assert case.state.accepted is not None and case.state.accepted.kind == K.PARTIAL_REFUND
    assert (case.state.status, case.state.stage) == (CaseStatus.OPEN, "show_prevention")


def test_an_offer_outside_the_policy_needs_the_owners_reason_and_is_recorded() -> None:
    case = Case(motive=Motive.ANGER).to_offer()
    with pytest.raises(
        RemedyNotAllowed,
        match=r"full_refund is not offered when the motive is anger and the fault is ours; "
        r"allowed: formal_apology",
    ):
        case.do(offer(K.FORMAL_APOLOGY, K.FULL_REFUND))
    events = case.do(offer(K.FORMAL_APOLOGY, K.GOODWILL_GIFT, override="Regular for ten years"))
    assert isinstance(events[0], PolicyOverridden) and events[0].kinds == (K.GOODWILL_GIFT,)
    assert case.state.current_offer is not None and case.state.current_offer.overridden


def test_unfounded_claims_get_no_compensation() -> None:
    case = Case().to_offer(fault=Fault.UNFOUNDED)
    with pytest.raises(RemedyNotAllowed, match="allowed: fact_explanation"):
        case.do(offer(K.PARTIAL_REFUND))
    case.do(offer(K.FACT_EXPLANATION))


def test_staff_clock_pauses_while_the_customer_decides() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    assert case.state.response_due_at is None
    reminded = case.tick(timedelta(hours=73))
    assert [type(e) for e in reminded] == [CustomerWaitExceeded]
    assert case.tick(timedelta(days=10)) == []  # no escalation, no repeated reminder
    assert case.state.escalation_level == 0 and case.state.breaches == 0
    case.do(RecordCustomerResponse(choice=K.FREE_REDO))
    assert case.state.response_due_at == case.now + timedelta(hours=24)  # the clock resumes


def test_a_decline_opens_a_new_round_and_a_second_escalates_to_the_owner() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    case.do(RecordCustomerResponse(decline_reason="I do not want them back in my house"))
    assert (case.state.status, case.state.stage) == (CaseStatus.OPEN, "offer_resolution")
    [second] = case.do(offer(K.FULL_REFUND))
    assert isinstance(second, ResolutionOffered) and second.round == 2
    events = case.do(RecordCustomerResponse(decline_reason="I want compensation for my day"))
    assert isinstance(events[-1], Escalated) and events[-1].reason == "declined_twice"
    assert (case.state.status, case.state.escalation_level) == (CaseStatus.ESCALATED, 2)
    assert case.state.breaches == 0  # the business was not late
    case.do(offer(K.FULL_REFUND, K.NEXT_SERVICE_DISCOUNT))
    case.do(RecordCustomerResponse(choice=K.FULL_REFUND))
    assert case.state.status == CaseStatus.OPEN


def test_a_late_business_owes_the_delay_discount() -> None:
    case = Case()
    case.tick(timedelta(hours=25))  # the apology was late
    case.to_offer()
    assert case.state.breached
    case.do(offer(K.FREE_REDO, K.DELAY_DISCOUNT))
    on_time = Case().to_offer()
    with pytest.raises(RemedyNotAllowed, match="delay_discount"):
        on_time.do(offer(K.DELAY_DISCOUNT))


def test_follow_up_a_week_later_then_closes_without_a_score() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    case.do(RecordCustomerResponse(choice=K.FREE_REDO))
    with pytest.raises(NotResolved, match="satisfaction is recorded at the follow-up"):
        case.do(RecordSatisfaction(score=5))
    case.do(ShowPrevention(measure="Parts checked against the model list"))
    assert case.tick(timedelta(days=6)) == []
    assert [type(e) for e in case.tick(timedelta(days=1))] == [FollowUpDue]
    [closed] = case.tick(timedelta(days=7))
    assert isinstance(closed, CaseClosed) and closed.reason == "no_follow_up_answer"
    assert finished(case.state) and case.state.rating is None


def test_a_low_score_reopens_at_the_offer_and_a_good_one_closes() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    case.do(RecordCustomerResponse(choice=K.FREE_REDO))
    case.do(ShowPrevention(measure="Parts checked"))
    with pytest.raises(NotAwaitingCustomer):
        case.do(RecordCustomerResponse(choice=K.FREE_REDO))
    reopened = case.do(RecordSatisfaction(score=2, comment="Still leaks"))
    assert isinstance(reopened[-1], CaseReopened)
    assert (case.state.stage, case.state.rating, case.state.reopened) == ("offer_resolution", 2, 1)
    [again] = case.do(offer(K.FULL_REFUND))
    assert isinstance(again, ResolutionOffered) and again.round == 2
    case.do(RecordCustomerResponse(choice=K.FULL_REFUND))
    case.do(ShowPrevention(measure="Second technician checks every repair"))
    closed = case.do(RecordSatisfaction(score=5))
    assert isinstance(closed[-1], CaseClosed) and closed[-1].reason == "satisfied"
    assert (case.state.status, case.state.rating) == (CaseStatus.CLOSED, 5)
    with pytest.raises(ValidationError):
        RecordSatisfaction(score=7)


def test_an_improvement_suggestion_is_answered_with_what_changed() -> None:
    case = Case(motive=Motive.IMPROVEMENT).to_offer()
    case.do(offer(K.THANKS))
    case.do(RecordCustomerResponse(choice=K.THANKS))
    case.do(ShowPrevention(measure="Menu now lists allergens"))
    case.do(RecordSatisfaction(score=5))  # closed before the report is due
    assert not finished(case.state)
    [report] = case.tick(timedelta(days=1))
    assert isinstance(report, ImprovementReported) and report.measure == "Menu now lists allergens"
    assert finished(case.state)


def test_a_public_review_gets_a_shorter_first_response() -> None:
    targets = response_targets(Motive.PROTECT_OTHERS, timedelta(hours=24), 0.75)
    assert targets.first_target == timedelta(hours=4)
    case = Case(motive=Motive.PROTECT_OTHERS)
    case.state = evolve(
        None,
        decide(
            open_command("c0ffee", motive=Motive.PROTECT_OTHERS).model_copy(
                update={"targets": targets}
            ),
            None,
            T0,
        )[0],
    )
    assert case.state.response_due_at == T0 + timedelta(hours=4)
    case.do(Apologize(what="Sorry, we will reply publicly today"), after=timedelta(hours=1))
    assert case.state.response_due_at == case.now + timedelta(hours=24)


@pytest.mark.parametrize(
    ("visits", "tier"),
    [
        (0, Tier.NEW),
        (1, Tier.BRONZE),
        (2, Tier.BRONZE),
        (3, Tier.SILVER),
        (4, Tier.SILVER),
        (5, Tier.GOLD),
        (40, Tier.GOLD),
    ],
)
def test_tiers_from_visits(visits: int, tier: Tier) -> None:
    assert tier_for(visits) == tier
    assert tier_for(visits, silver_from=2, gold_from=10) == (
        Tier.NEW
        if visits == 0
        else Tier.BRONZE
        if visits < 2
        else Tier.SILVER
        if visits < 10
        else Tier.GOLD
    )
