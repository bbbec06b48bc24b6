"""Which remedies staff may offer, and which the method recommends: the guides' rules.

| motive          | fault ours                          | misunderstanding          |
|-----------------|-------------------------------------|---------------------------|
| compensation    | redo, partial/full refund, discount | explanation, goodwill     |
| anger           | formal apology (no money)           | formal apology, explanation|
| improvement     | thanks, thank-you benefit           | thanks, thank-you benefit |
| protect_others  | public apology, redo, full refund   | explanation, public note  |

An unfounded claim gets a fact-based explanation only. On top: a case the business was
late on adds the delay discount; a gold customer adds a goodwill gift and priority booking.
"""

from domain.model import Fault, Frozen, Motive, Remedy, RemedyKind, RemedyTerms, Tier

K = RemedyKind

_BY_MOTIVE: dict[Motive, dict[Fault, tuple[RemedyKind, ...]]] = {
    Motive.COMPENSATION: {
        Fault.OURS: (K.FREE_REDO, K.PARTIAL_REFUND, K.FULL_REFUND, K.NEXT_SERVICE_DISCOUNT),
        Fault.MISUNDERSTANDING: (K.FACT_EXPLANATION, K.GOODWILL_GIFT),
    },
    Motive.ANGER: {
        Fault.OURS: (K.FORMAL_APOLOGY,),
        Fault.MISUNDERSTANDING: (K.FORMAL_APOLOGY, K.FACT_EXPLANATION),
    },
    Motive.IMPROVEMENT: {
        Fault.OURS: (K.THANKS, K.THANK_YOU_BENEFIT),
        Fault.MISUNDERSTANDING: (K.THANKS, K.THANK_YOU_BENEFIT),
    },
    Motive.PROTECT_OTHERS: {
        Fault.OURS: (K.PUBLIC_APOLOGY, K.FREE_REDO, K.FULL_REFUND),
        Fault.MISUNDERSTANDING: (K.FACT_EXPLANATION, K.PUBLIC_APOLOGY),
    },
}
_MONEY = frozenset({K.PARTIAL_REFUND, K.FULL_REFUND, K.NEXT_SERVICE_DISCOUNT, K.DELAY_DISCOUNT})


class RemedyMenu(Frozen):
    allowed: tuple[RemedyKind, ...]
    recommended: RemedyKind
    why: str


def remedy_menu(motive: Motive, fault: Fault, tier: Tier, breached: bool) -> RemedyMenu:
    if fault == Fault.UNFOUNDED:
        allowed: tuple[RemedyKind, ...] = (K.FACT_EXPLANATION,)
        why = "the claim does not hold: explain the facts calmly and close firmly"
    else:
        allowed = _BY_MOTIVE[motive][fault]
        why = {
            Motive.COMPENSATION: "they want their loss made good: let them choose",
            Motive.ANGER: "they want their pride restored: apologize formally, promise prevention",
            Motive.IMPROVEMENT: "they want to help: thank them and tell them later what changed",
            Motive.PROTECT_OTHERS: "they want nobody else hurt: apologize quickly and visibly",
        }[motive]
    recommended = allowed[0]
    if breached:
        allowed += (K.DELAY_DISCOUNT,)
        why += "; we were late, so a delay discount is due"
    if tier == Tier.GOLD and fault != Fault.UNFOUNDED:
        allowed += tuple(k for k in (K.GOODWILL_GIFT, K.PRIORITY_BOOKING) if k not in allowed)
        why += "; a gold customer gets an extra goodwill option"
    return RemedyMenu(allowed=allowed, recommended=recommended, why=why)


def is_money(kind: RemedyKind) -> bool:
    return kind in _MONEY


def default_terms(kind: RemedyKind, terms: RemedyTerms) -> str:
    """Concrete terms for a remedy staff offered without writing their own."""
    return {
        K.FREE_REDO: "the work redone free of charge at a time the customer picks",
        K.PARTIAL_REFUND: f"{terms.partial_refund_percent} % of the price refunded",
        K.FULL_REFUND: "the full price refunded",
        K.NEXT_SERVICE_DISCOUNT: f"{terms.next_service_discount_percent} % off the next service",
        K.DELAY_DISCOUNT: f"{terms.delay_discount_percent} % off the next order for our delay",
        K.GOODWILL_GIFT: terms.goodwill_gift,
        K.PRIORITY_BOOKING: "priority booking for the next visit",
        K.FORMAL_APOLOGY: "a formal apology from the owner, with the prevention promised",
        K.PUBLIC_APOLOGY: "a public reply under the review: apology, facts, what changes",
        K.THANKS: "our thanks, and a message once the suggestion is applied",
        K.THANK_YOU_BENEFIT: terms.thank_you_benefit,
        K.FACT_EXPLANATION: "the facts explained, with the records that show them",
    }[kind]


def complete(option: Remedy | RemedyKind, terms: RemedyTerms) -> Remedy:
    if isinstance(option, Remedy):
        return option
    return Remedy(kind=option, terms=default_terms(option, terms))
