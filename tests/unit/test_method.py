"""The care method: offers within policy, the customer's choice, follow-up, improvement."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.clock import finished, next_deadline
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
    ResponseDueSoon,
)
from domain.model import (
    CarePolicy,
    CaseState,
    CaseStatus,
    CustomerProfile,
    Fault,
    Motive,
    RemedyKind,
    RemedyTerms,
    Step,
    Tier,
)
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


def test_the_customer_gets_the_full_wait_before_staff_are_told_to_call() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    offered_at = case.now
    assert case.state.customer_wait_due_at == offered_at + timedelta(hours=72)
    assert case.tick(timedelta(hours=71, minutes=59)) == []
    [reminder] = case.tick(timedelta(minutes=1))
    assert isinstance(reminder, CustomerWaitExceeded) and reminder.offered_at == offered_at


def test_an_improvement_suggester_hears_back_a_day_after_prevention_before_the_call() -> None:
    case = Case(motive=Motive.IMPROVEMENT).to_offer()
    case.do(offer(K.THANKS))
    case.do(RecordCustomerResponse(choice=K.THANKS))
    case.do(ShowPrevention(measure="Menu now lists allergens"))
    shown_at = case.now
    assert case.state.improvement_report_due_at == shown_at + timedelta(days=1)
    deadline = next_deadline(case.state)  # the report comes before the week's follow-up call
    assert deadline is not None and deadline.at == shown_at + timedelta(days=1)
    assert case.tick(timedelta(hours=23, minutes=59)) == []
    assert [type(e) for e in case.tick(timedelta(minutes=1))] == [ImprovementReported]
    assert case.state.improvement_report_due_at is None


def test_only_an_improvement_suggestion_gets_a_report() -> None:
    case = Case(motive=Motive.ANGER).to_offer()
    case.do(offer(K.FORMAL_APOLOGY))
    case.do(RecordCustomerResponse(choice=K.FORMAL_APOLOGY))
    case.do(ShowPrevention(measure="Staff trained on greeting"))
    assert case.state.improvement_report_due_at is None


def test_after_a_reopening_the_customer_may_decline_once_more_before_the_owner_hears() -> None:
    """The declines count within one offer cycle; a low score starts a new cycle."""
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    case.do(RecordCustomerResponse(decline_reason="Not the same technician"))
    assert case.state.declines == 1
    case.do(offer(K.PARTIAL_REFUND))
    case.do(RecordCustomerResponse(choice=K.PARTIAL_REFUND))
    case.do(ShowPrevention(measure="Parts checked"))
    case.do(RecordSatisfaction(score=1, comment="Still broken"))
    assert case.state.declines == 0
    assert case.state.accepted is None and case.state.resolved_at is None
    assert case.state.follow_up_due_at is None and case.state.follow_up_expires_at is None
    case.do(offer(K.FULL_REFUND))
    first = case.do(RecordCustomerResponse(decline_reason="I want it repaired"))
    assert [type(e).__name__ for e in first] == ["ResolutionDeclined"]
    assert case.state.status == CaseStatus.OPEN and case.state.escalation_level == 0


def test_a_gold_customer_is_offered_priority_booking_without_an_override() -> None:
    gold = Case(tier=Tier.GOLD).to_offer()
    events = gold.do(offer(K.FREE_REDO, K.PRIORITY_BOOKING, K.GOODWILL_GIFT))
    assert [type(e) for e in events] == [ResolutionOffered]
    assert gold.state.current_offer is not None and not gold.state.current_offer.overridden
    silver = Case(tier=Tier.SILVER).to_offer()
    with pytest.raises(RemedyNotAllowed, match="priority_booking is not offered"):
        silver.do(offer(K.FREE_REDO, K.PRIORITY_BOOKING))


def test_terms_staff_write_are_offered_as_written_and_the_rest_come_from_the_shop() -> None:
    case = Case().to_offer()
    shop = CarePolicy(remedies=RemedyTerms(next_service_discount_percent=15))
    case.state = case.state.model_copy(update={"care": shop})
    [offered] = case.do(
        OfferResolution(
            options=[
                OfferedRemedy(kind=K.PARTIAL_REFUND, terms="Half back by bank transfer today"),
                OfferedRemedy(kind=K.NEXT_SERVICE_DISCOUNT),
                OfferedRemedy(kind=K.FULL_REFUND, terms="All of it back, cash in the shop"),
            ],
            plan="Money back, or a discount",
        )
    )
    assert isinstance(offered, ResolutionOffered)
    assert [(o.kind, o.terms) for o in offered.options] == [
        (K.PARTIAL_REFUND, "Half back by bank transfer today"),
        (K.NEXT_SERVICE_DISCOUNT, "15 % off the next service"),
        (K.FULL_REFUND, "All of it back, cash in the shop"),
    ]
    assert case.state.resolution == "Money back, or a discount"
    case.do(RecordCustomerResponse(choice=K.PARTIAL_REFUND))
    assert case.state.accepted == offered.options[0]


def test_each_missed_target_counts_one_breach_and_a_new_window_warns_again() -> None:
    case = Case()
    [late] = case.tick(timedelta(hours=24, minutes=1))
    assert isinstance(late, Escalated) and late.missed_due_at == T0 + timedelta(hours=24)
    assert (case.state.breaches, case.state.escalations) == (1, 1)
    assert case.state.window_started_at == case.now
    case.do(Apologize(what="Sorry we are late"))
    answered_at = case.now
    assert (case.state.step_started_at, case.state.window_started_at) == (answered_at,) * 2
    assert not case.state.warned
    assert case.tick(timedelta(hours=17, minutes=59)) == []
    [warning] = case.tick(timedelta(minutes=1))  # three quarters of the empathize window
    assert isinstance(warning, ResponseDueSoon) and warning.step == Step.EMPATHIZE
    assert warning.due_at == answered_at + timedelta(hours=24)
    [second] = case.tick(timedelta(hours=6))
    assert isinstance(second, Escalated) and second.step == Step.EMPATHIZE
    assert (case.state.breaches, case.state.escalations) == (2, 2)


def test_a_public_reviews_apology_is_judged_against_its_shorter_target() -> None:
    targets = response_targets(Motive.PROTECT_OTHERS, timedelta(hours=24), 0.75)
    command = open_command("c0ffee", motive=Motive.PROTECT_OTHERS).model_copy(
        update={"targets": targets}
    )
    case = Case(motive=Motive.PROTECT_OTHERS)
    case.state = evolve(None, decide(command, None, T0)[0])
    case.do(Apologize(what="Sorry, we reply publicly now"), after=timedelta(hours=5))
    case.do(Empathize(customer_words="Others should know"), after=timedelta(hours=20))
    apology, empathy = case.state.done
    assert (apology.due_at, apology.within_target) == (T0 + timedelta(hours=4), False)
    assert empathy.due_at == apology.at + timedelta(hours=24) and empathy.within_target
    assert case.state.breached


def test_while_the_customer_decides_the_offer_is_still_the_step_at_hand() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    assert case.state.next_step == Step.OFFER_RESOLUTION
    assert case.state.stage == "customer_response"
    assert case.state.customer_reminded is False


def test_the_customers_words_at_the_follow_up_are_kept() -> None:
    case = Case().to_offer()
    case.do(offer(K.FREE_REDO))
    case.do(RecordCustomerResponse(choice=K.FREE_REDO))
    case.do(ShowPrevention(measure="Parts checked"))
    case.do(RecordSatisfaction(score=4, comment="Quick and polite"))
    assert (case.state.rating, case.state.rating_comment) == (4, "Quick and polite")
    assert case.state.closed_reason == "satisfied" and case.state.closed_at == case.now
    assert case.state.next_step is None and case.state.follow_up_expires_at is None
