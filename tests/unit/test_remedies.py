"""The remedy policy, every motive x fault x tier x lateness combination."""

import itertools

import pytest

from domain.model import Fault, Motive, RemedyKind, RemedyTerms, Tier
from domain.remedies import default_terms, is_money, remedy_menu

K = RemedyKind
M, F = Motive, Fault

BASE: dict[tuple[Motive, Fault], tuple[tuple[RemedyKind, ...], RemedyKind]] = {
    (M.COMPENSATION, F.OURS): (
        (K.FREE_REDO, K.PARTIAL_REFUND, K.FULL_REFUND, K.NEXT_SERVICE_DISCOUNT),
        K.FREE_REDO,
    ),
    (M.COMPENSATION, F.MISUNDERSTANDING): (
        (K.FACT_EXPLANATION, K.GOODWILL_GIFT),
        K.FACT_EXPLANATION,
    ),
    (M.ANGER, F.OURS): ((K.FORMAL_APOLOGY,), K.FORMAL_APOLOGY),
    (M.ANGER, F.MISUNDERSTANDING): ((K.FORMAL_APOLOGY, K.FACT_EXPLANATION), K.FORMAL_APOLOGY),
    (M.IMPROVEMENT, F.OURS): ((K.THANKS, K.THANK_YOU_BENEFIT), K.THANKS),
    (M.IMPROVEMENT, F.MISUNDERSTANDING): ((K.THANKS, K.THANK_YOU_BENEFIT), K.THANKS),
    (M.PROTECT_OTHERS, F.OURS): ((K.PUBLIC_APOLOGY, K.FREE_REDO, K.FULL_REFUND), K.PUBLIC_APOLOGY),
    (M.PROTECT_OTHERS, F.MISUNDERSTANDING): (
        (K.FACT_EXPLANATION, K.PUBLIC_APOLOGY),
        K.FACT_EXPLANATION,
    ),
}
for motive in Motive:
    BASE[(motive, F.UNFOUNDED)] = ((K.FACT_EXPLANATION,), K.FACT_EXPLANATION)

ALL = list(itertools.product(Motive, Fault, Tier, [False, True]))


@pytest.mark.parametrize(("motive", "fault", "tier", "breached"), ALL)
def test_menu_for_every_combination(
    motive: Motive, fault: Fault, tier: Tier, breached: bool
) -> None:
    base, recommended = BASE[(motive, fault)]
    expected = list(base)
    if breached:
        expected.append(K.DELAY_DISCOUNT)
    if tier == Tier.GOLD and fault != F.UNFOUNDED:
        expected += [k for k in (K.GOODWILL_GIFT, K.PRIORITY_BOOKING) if k not in expected]
    menu = remedy_menu(motive, fault, tier, breached)
    assert list(menu.allowed) == expected
    assert menu.recommended == recommended and menu.recommended in menu.allowed
    assert len(set(menu.allowed)) == len(menu.allowed)
    assert menu.why


@pytest.mark.parametrize("tier", list(Tier))
def test_anger_gets_no_money_and_unfounded_no_compensation(tier: Tier) -> None:
    for fault in (F.OURS, F.MISUNDERSTANDING):
        assert not any(is_money(k) for k in remedy_menu(M.ANGER, fault, tier, False).allowed)
    for motive in Motive:
        menu = remedy_menu(motive, F.UNFOUNDED, tier, False)
        assert menu.allowed == (K.FACT_EXPLANATION,)


def test_terms_come_from_the_shops_configuration() -> None:
    terms = RemedyTerms(partial_refund_percent=30, delay_discount_percent=15)
    assert default_terms(K.PARTIAL_REFUND, terms) == "30 % of the price refunded"
    assert default_terms(K.DELAY_DISCOUNT, terms).startswith("15 % off")
    assert all(default_terms(k, terms) for k in RemedyKind)


WHY = {
    M.COMPENSATION: "they want their loss made good: let them choose",
    M.ANGER: "they want their pride restored: apologize formally, promise prevention",
    M.IMPROVEMENT: "they want to help: thank them and tell them later what changed",
    M.PROTECT_OTHERS: "they want nobody else hurt: apologize quickly and visibly",
}
LATE = "; we were late, so a delay discount is due"
GOLD = "; a gold customer gets an extra goodwill option"


@pytest.mark.parametrize("motive", list(Motive))
def test_the_menu_says_why_the_motive_calls_for_its_remedies(motive: Motive) -> None:
    """Staff read this next to the recommendation (`complaints show`)."""
    for fault in (F.OURS, F.MISUNDERSTANDING):
        assert remedy_menu(motive, fault, Tier.SILVER, False).why == WHY[motive]
        assert remedy_menu(motive, fault, Tier.GOLD, True).why == WHY[motive] + LATE + GOLD
    unfounded = remedy_menu(motive, F.UNFOUNDED, Tier.GOLD, True)
    assert unfounded.why == (
        "the claim does not hold: explain the facts calmly and close firmly" + LATE
    )


def test_each_remedy_offered_without_terms_gets_concrete_ones() -> None:
    """What the customer is told they get, when staff do not write it themselves."""
    terms = RemedyTerms(
        partial_refund_percent=30,
        next_service_discount_percent=20,
        delay_discount_percent=15,
        goodwill_gift="a box of cookies",
        thank_you_benefit="a free coffee next time",
    )
    assert {k: default_terms(k, terms) for k in RemedyKind} == {
        K.FREE_REDO: "the work redone free of charge at a time the customer picks",
        K.PARTIAL_REFUND: "30 % of the price refunded",
        K.FULL_REFUND: "the full price refunded",
        K.NEXT_SERVICE_DISCOUNT: "20 % off the next service",
        K.DELAY_DISCOUNT: "15 % off the next order for our delay",
        K.GOODWILL_GIFT: "a box of cookies",
        K.PRIORITY_BOOKING: "priority booking for the next visit",
        K.FORMAL_APOLOGY: "a formal apology from the owner, with the prevention promised",
        K.PUBLIC_APOLOGY: "a public reply under the review: apology, facts, what changes",
        K.THANKS: "our thanks, and a message once the suggestion is applied",
        K.THANK_YOU_BENEFIT: "a free coffee next time",
        K.FACT_EXPLANATION: "the facts explained, with the records that show them",
    }
