"""What the CLI prints: cases, lists, reports and notices, every time in the shop's zone."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.times import in_zone
from domain.events import (
    Apologized,
    CaseClosed,
    CaseOpened,
    CaseWithdrawn,
    CauseAnalyzed,
    DelayRecorded,
    Empathized,
    Escalated,
    Event,
    ImprovementReported,
    PolicyOverridden,
    PreventionShown,
    ResolutionAccepted,
    ResolutionDeclined,
    ResolutionOffered,
    RulesChanged,
    SatisfactionRecorded,
)
from domain.messages import TEMPLATES
from domain.model import STEPS, CaseState, CaseStatus, stage_name
from domain.phone import written_phone
from domain.remedies import remedy_menu
from domain.wording import stamp

if TYPE_CHECKING:  # what the commands return, each imported by the command that runs
    from app.admin import MigrationStatus
    from app.customers import VisitRecorded
    from app.reads import CasePage
    from notify.keep_in_touch import KeepInTouchRun
    from store.consents import ConsentState
    from store.referrals import Reward
    from store.report import Report
    from store.timeline import Entry


def as_json(value: Any, zone: ZoneInfo, indent: int | None = None) -> str:
    """Data for scripts: times in ISO 8601 with the shop's offset."""
    return json.dumps(in_zone(value, zone), indent=indent, ensure_ascii=False)


def counted(n: int, noun: str) -> str:
    """ "1 case", "2 cases": English plurals of the nouns the CLI counts."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def when(at: datetime, zone: ZoneInfo) -> str:
    return stamp(at, zone.key)


def case(
    state: CaseState, zone: ZoneInfo, region: str = "KR", history: list[Entry] | None = None
) -> str:
    profile = state.profile
    if state.customer is not None:
        who = f"{state.customer.name}   {written_phone(state.customer.phone, region)}"
    else:
        who = "not on file (forgotten): no one to call"
    rows = [
        f"case      {state.case_id}   ({state.status}, at {stage_name(state.stage)}, "
        f"escalation level {state.escalation_level})",
        f"customer  {who}",
        f"motive    {state.motive}    channel {state.channel}    customer tier {profile.tier} "
        f"({counted(profile.visits, 'visit')}, {counted(profile.previous_cases, 'earlier case')})",
        f"opened    {when(state.opened_at, zone)}",
        f"summary   {state.summary}",
    ]
    texts = {
        "apologize": state.apology,
        "empathize": state.customer_words,
        "analyze_cause": f"{state.cause} (fault: {state.fault})" if state.cause else None,
        "offer_resolution": state.resolution,
        "show_prevention": state.prevention,
    }
    for step in STEPS:
        mark = "x" if step in state.steps_done else " "
        rows.append(f"  [{mark}] {step.label:<17} {texts[step.value] or ''}")
    for offer in state.offers:
        options = "; ".join(f"{o.kind}: {o.terms}" for o in offer.options)
        rows.append(
            f"offer {offer.round}   {options}" + ("  [owner override]" if offer.overridden else "")
        )
    if state.accepted:
        rows.append(f"accepted  {state.accepted.kind}: {state.accepted.terms}")
    if state.reply_post_from and not state.status.is_final:
        # A public review's reply is drafted now and posted after a night's calm.
        rows.append(f"reply     post the public reply from {when(state.reply_post_from, zone)}")
    rows += _next(state, zone)
    if state.rating is not None:
        rows.append(f"rating    {state.rating}/5  {state.rating_comment or ''}".rstrip())
    if state.withdrawn_reason:
        rows.append(f"withdrawn {state.withdrawn_reason}")
    if state.closed_reason:
        rows.append(f"closed    {state.closed_reason}")
    rows += recent(history or [], zone)
    return "\n".join(rows)


_DAY_CHANGE = re.compile(r"^(closed|opened) \d{4}-\d{2}-\d{2}$")


def change(what: str, before: str | None, after: str | None) -> str:
    """A rulebook change as `rules changes` lists it: a rule goes from its value (or the
    environment's default) to another; a day closed or opened once is shown as that day's
    closure (its reason) or opening (its hours), and its removal as such."""
    if _DAY_CHANGE.match(what):
        if before is None:
            return f"{what}: {after}"
        return f"{what}: {before} -> {after if after is not None else 'removed'}"
    return f"{what}: {before if before is not None else '(default)'} -> " + (
        after if after is not None else "(default)"
    )


RECENT = 6  # the events `show` lists: enough to say why the due time last moved


def recent(entries: list[Entry], zone: ZoneInfo, shown: int = RECENT) -> list[str]:
    """The case's last events, oldest first, each with who acted and what they said: the
    rules or calendar change that moved a due time says so, with its reason."""
    if not entries:
        return []
    last = entries[-shown:]
    head = "history   " + (
        f"the last {len(last)} of {len(entries)} events" if len(last) < len(entries) else "events"
    )
    rows = [head]
    for e in last:
        # Nobody's step: the clock's, or the rulebook's (who changed it is in the reason).
        nobody = "the shop's rules" if isinstance(e.event, RulesChanged) else "the clock"
        who = e.event.by or nobody
        said = _said(e.event, zone)
        rows.append(
            f"  {when(e.occurred_at, zone)}  {e.event.type.replace('_', ' ')} ({who})"
            + (f": {said}" if said else "")
        )
    return rows


def _said(event: Event, zone: ZoneInfo) -> str:
    """What an event records in words (the detail `show` prints beside it)."""
    match event:
        case RulesChanged():
            due = event.response_due_at
            return event.reason + (f"; due {when(due, zone)}" if due else "")
        case DelayRecorded():
            return f"{event.reason}; due {when(event.due_at, zone)}"
        case CaseOpened():
            return event.summary
        case Apologized():
            return event.what
        case Empathized():
            return event.customer_words
        case CauseAnalyzed():
            return f"{event.cause} (fault: {event.fault})"
        case ResolutionOffered():
            return f"{event.plan} [{', '.join(o.kind for o in event.options)}]"
        case ResolutionAccepted():
            return f"{event.remedy.kind}: {event.remedy.terms}"
        case PreventionShown() | ImprovementReported():
            return event.measure
        case SatisfactionRecorded():
            return f"{event.score}/5 {event.comment or ''}".rstrip()
        case Escalated():
            return f"level {event.level} ({event.reason})"
        case ResolutionDeclined() | PolicyOverridden() | CaseWithdrawn() | CaseClosed():
            return str(event.reason)
        case _:
            return ""


def _next(state: CaseState, zone: ZoneInfo) -> list[str]:
    if state.status == CaseStatus.AWAITING_CUSTOMER:
        return [
            "next      the customer's answer: `complaints answer <case> --choose KIND` "
            "or `--decline REASON` (staff clock paused)"
        ]
    if state.status == CaseStatus.RESOLVED and state.follow_up_due_at:
        return [
            f"next      follow-up call from {state.follow_up_due_at.astimezone(zone):%Y-%m-%d}: "
            "`complaints rate <case> SCORE`"
        ]
    rows = []
    if state.next_step and state.response_due_at:
        rows.append(f"next      {state.next_step.label}, due {when(state.response_due_at, zone)}")
        if state.delayed_from:
            rows.append(
                f"delayed   from {when(state.delayed_from, zone)} "
                f"({state.delays} delay{'s' if state.delays > 1 else ''} told the customer)"
            )
    if state.delay_compensation:
        rows.append(f"for delay {state.delay_compensation.terms}")
    if state.stage == "offer_resolution" and state.fault is not None:
        menu = remedy_menu(state.motive, state.fault, state.profile.tier, state.delay_discount_due)
        rows.append(f"remedies  {', '.join(menu.allowed)}")
        rows.append(f"          recommended: {menu.recommended} ({menu.why})")
    return rows


def case_list(page: CasePage, limit: int, zone: ZoneInfo) -> str:
    if not page.cases:
        return "no cases match"
    header = (
        f"{'case':<14} {'status':<17} {'step':<17} {'motive':<15} {'tier':<7} esc  "
        f"{'due':<16} opened"
    )
    lines = [header]
    for r in page.cases:
        due = f"{r.response_due_at.astimezone(zone):%Y-%m-%d %H:%M}" if r.response_due_at else "-"
        lines.append(
            f"{r.case_id:<14} {r.status:<17} {stage_name(r.step or '-'):<17} {r.motive:<15} "
            f"{r.tier or '-':<7} {r.escalation_level:>3}  {due:<16} "
            f"{r.opened_at.astimezone(zone):%Y-%m-%d %H:%M}"
        )
    pages = max(1, -(-page.total // limit))
    abbreviation = datetime.now(zone).strftime("%Z")
    lines.append(
        f"page {page.page} of {pages}, {counted(page.total, 'case')} (times {zone} {abbreviation})"
    )
    return "\n".join(lines)


def notices(rows: list[dict[str, Any]], zone: ZoneInfo) -> str:
    if not rows:
        return "every notice has been delivered"
    lines = [f"{'notice':<9} {'case':<14} {'kind':<23} {'to':<9} tries  state"]
    for r in rows:
        if r["not_before"] and r["not_before"] > datetime.now(UTC):
            until = r["not_before"].astimezone(zone)
            state = f"held until {until:%a %Y-%m-%d %H:%M %Z}"  # quiet, closed, a cool-off
        elif r["sending"]:
            state = "being sent"
        elif r["last_error"]:
            state = f"failed: {r['last_error']}"
        else:
            state = "waiting"
        lines.append(
            f"{r['id'][:8]:<9} {r['case_id']:<14} {r['kind']:<23} {r['recipient']:<9} "
            f"{r['attempts']:>5}  {state} (since {when(r['created_at'], zone)})"
        )
    lines.append(
        f"{counted(len(rows), 'notice')} not delivered; failed ones are retried every 5 min"
    )
    return "\n".join(lines)


def period_report(report: Report) -> str:
    def pct(share: float | None) -> str:
        return "-" if share is None else f"{share:.0%}"

    def minutes(value: float | None) -> str:
        if value is None:
            return "-"
        if value < 1:
            return f"{value * 60:.0f} s"
        return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"

    lines = [
        f"Complaints report {report.start:%Y-%m-%d} to {report.end:%Y-%m-%d} (end exclusive)",
        "",
        f"cases opened            {report.opened}",
        f"cases closed            {report.closed}   (unanswered {report.unanswered}, "
        f"withdrawn {report.withdrawn})",
        f"steps within target     {pct(report.within_target_share)}   "
        f"({report.steps_within_target} of {report.steps_answered})",
        f"first response          median {minutes(report.first_response_median_minutes)}, "
        f"90th percentile {minutes(report.first_response_p90_minutes)}",
        f"escalations             {report.escalations}",
    ]
    average = "-" if report.average_rating is None else f"{report.average_rating:.2f} / 5"
    target = {None: "", True: "  (target 4.5 met)", False: "  (below the 4.5 target)"}
    lines.append(
        f"satisfaction            {average} from {counted(report.ratings, 'rating')}, "
        f"{report.rated_at_target} at 4.5 or more{target[report.meets_satisfaction_target]}"
    )
    met = {None: "", True: ", met", False: ", below"}
    lines.append(
        f"repeat visits           {pct(report.repeat_visit_rate)} of "
        f"{counted(report.customers_visiting, 'customer')} seen came back within a year "
        f"(target {report.repeat_visit_target:.0%}"
        f"{met[report.meets_repeat_visit_target]})"
    )
    lines.append(
        f"referred customers      {pct(report.referred_share)} of "
        f"{counted(report.new_customers, 'new customer')} came through a referral "
        f"(target {report.referred_target:.0%}"
        f"{met[report.meets_referred_target]})"
    )
    if report.top_referrers:
        brought = ", ".join(
            f"{r.name or r.customer_id} ({r.referred})" for r in report.top_referrers
        )
        lines.append(f"who brings customers    {brought}")
    lines += ["", "step               answered  within target  escalations"]
    for s in report.per_step:
        lines.append(f"{s.step:<18} {s.answered:>8}  {s.within_target:>13}  {s.escalations:>11}")
    lines += [
        "",
        "by motive   " + _pairs(report.by_motive),
        "by fault    " + _pairs(report.by_fault),
    ]
    lines += ["", "most frequent causes (each stands for about ten silent customers):"]
    lines += [f"  {n:>3} x {cause}" for cause, n in report.top_causes] or ["  -"]
    return "\n".join(lines)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counts.items()) or "-"


def migrations(status: MigrationStatus, zone: ZoneInfo) -> str:
    """Applied migrations with when, then the pending ones; a changed file is marked."""
    changed = {m.version for m in status.edited}
    lines = []
    for a in status.applied:
        mark = (
            "CHANGED since applied"
            if a.version in changed
            else ("applied" if a.checksum else "applied (no checksum recorded yet)")
        )
        lines.append(f"{a.version:04d}_{a.name:<32} {mark}, {when(a.applied_at, zone)}")
    lines += [f"{m.label:<37} pending" for m in status.pending]
    if not lines:
        return "no migrations applied yet; `complaints migrate` applies them"
    summary = f"{len(status.applied)} applied, {len(status.pending)} pending"
    if changed:
        summary += f", {len(changed)} changed after being applied"
    return "\n".join([*lines, summary])


def messages(rows: list[dict[str, Any]], zone: ZoneInfo) -> str:
    """Customer messages done: what became of each (no number, no text)."""
    if not rows:
        return "no customer message has gone out yet"
    lines = [f"{'notice':<9} {'case':<14} {'kind':<23} {'result':<13} detail"]
    for r in rows:
        d = r["delivery"] or {}
        result = d.get("result") or ("not sent" if r["last_error"] else "sent")
        if result == "accepted":  # the sweep looks it up again every 5 minutes
            result = "on its way"
        detail = " ".join(
            x for x in (d.get("provider"), d.get("channel"), d.get("status_code")) if x
        )
        if r["last_error"]:
            detail = f"{detail} {r['last_error']}".strip()
        lines.append(
            f"{r['id'][:8]:<9} {r['case_id']:<14} {r['kind']:<23} {result:<13} {detail} "
            f"({when(r['sent_at'], zone)})"
        )
    return "\n".join(lines)


def template_rows() -> list[dict[str, Any]]:
    return [
        {
            "kind": t.kind,
            "moment": t.moment,
            "variables": list(t.variables),
            "link": t.link,
            "text": t.text,
        }
        for t in TEMPLATES.values()
    ]


def templates(ids: dict[str, str]) -> str:
    """Each template as a provider's approval form asks: its text per language, its
    variables, and the id it was approved under (COMPLAINTS_MESSAGE_TEMPLATES)."""
    blocks = []
    for t in TEMPLATES.values():
        head = [
            f"== {t.kind}  (template id: {ids.get(t.kind, 'not set')})",
            f"sent when : {t.moment}",
            f"variables : {', '.join(f'#{{{v}}}' for v in t.variables)}",
            "type      : information only (알림톡, no advertising); SMS/LMS fallback",
        ]
        if t.link:
            head.append(f"link      : #{{link}} opens the customer's page ({t.link})")
        body = [f"-- {lang}\n{text}" for lang, text in t.text.items()]
        blocks.append("\n".join(head + body))
    return "\n\n".join(blocks)


# What `consent PHONE yes|no [--night]` recorded, by (given, night), as ConsentBook.record
# takes them.
CONSENT_RECORDED = {
    (True, False): "consent to advertising recorded",
    (True, True): "consent to advertising, also between 21:00 and 08:00, recorded",
    (False, True): "night-time consent withdrawn (advertising by day as before)",
    (False, False): "consent to advertising withdrawn (an opt-out)",
}


def consent(state: ConsentState, zone: ZoneInfo, given: bool = True, night: bool = False) -> str:
    """What was recorded, then the customer's consent to advertising as it stands now."""

    def since(at: datetime | None) -> str:
        return f"yes, since {when(at, zone)}" if at else "no"

    lines = [
        f"customer {state.customer_id}: {CONSENT_RECORDED[given, night]}",
        f"advertising messages    {since(state.marketing_since)}",
        f"between 21:00 and 08:00 {since(state.night_since)}",
    ]
    if state.opted_out_at:
        lines.append(f"opted out               {when(state.opted_out_at, zone)}")
    return "\n".join(lines)


def _reward(r: Reward) -> str:
    what = {
        "referred_discount": f"{r.percent} % off (referred)",
        "referrer_discount": f"{r.percent} % off (for a referral)",
        "free_check": "a free check-up (for every third referral)",
    }.get(r.kind, r.kind)
    return f"#{r.id} {what}"


def rewards(visit: VisitRecorded) -> list[str]:
    """The rewards lines of a visit: used now, waiting, and the referrer's side."""
    lines = [f"used now: {', '.join(_reward(r) for r in visit.redeemed)}"] if visit.redeemed else []
    if visit.rewards:
        lines.append(f"rewards waiting: {', '.join(_reward(r) for r in visit.rewards)}")
    if visit.referrer:
        ref = visit.referrer
        waiting = ", ".join(_reward(r) for r in ref.rewards) or "none"
        lines.append(
            f"referrer {ref.customer_id}: {counted(ref.referrals, 'referral')}; "
            f"their rewards waiting: {waiting}"
        )
    return lines


def keep_in_touch_rows(run: KeepInTouchRun) -> dict[str, Any]:
    return {
        **run.counts(),
        "refused": run.refused or None,
        "customers": [
            {
                "customer_id": p.candidate.customer_id,
                "name": p.candidate.name,
                "phone": p.candidate.phone,
                "last_visit_at": p.candidate.last_visit_at,
                "last_contact_at": p.candidate.last_contact_at,
                "basis": p.basis,
                "held": p.held or None,
            }
            for p in run.planned
        ],
        "calls": [
            {
                "customer_id": c.candidate.customer_id,
                "visits": c.candidate.visits,
                "last_visit_at": c.candidate.last_visit_at,
                "last_contact_at": c.candidate.last_contact_at,
                "case_id": c.candidate.last_case_id,
                "held": c.held or None,
            }
            for c in run.calls
        ],
    }


def keep_in_touch(run: KeepInTouchRun, dry_run: bool, zone: ZoneInfo, region: str) -> str:
    """Who is due a keep-in-touch message, and what became of each."""
    if not run.planned and not run.calls:
        return "no customer is due a keep-in-touch message now"
    lines = []
    for p in run.planned:
        who = f"{p.candidate.name or '-'} ({written_phone(p.candidate.phone, region)})"
        why = f"held: {p.held}" if p.held else f"basis: {p.basis}"
        lines.append(f"{who:<32} last contact {when(p.candidate.last_contact_at, zone)}  {why}")
    goes = run.due - run.held
    if dry_run:
        head = f"would send {counted(goes, 'keep-in-touch message')} now ({run.held} held)"
    else:
        head = f"sent {run.sent} of {run.due} due ({run.held} held, {run.failed} failed)"
    if run.refused:
        head += f"; nothing can be sent: {run.refused}"
    if run.calls:
        held = sum(1 for c in run.calls if c.held)
        calls = counted(len(run.calls), "regular customer")
        if dry_run:
            head += f"\nno message may reach {calls}: would remind staff to call "
            head += f"{len(run.calls) - held} ({held} held)"
        else:
            head += f"\nno message may reach {calls}: staff reminded to call "
            head += f"{run.reminded} ({held} held)"
    for c in run.calls:
        why = f"held: {c.held}" if c.held else "call: no basis for a message"
        last = when(c.candidate.last_contact_at, zone)
        lines.append(f"{c.candidate.customer_id:<32} last contact {last}  {why}")
    return "\n".join([head, *lines])
