"""Keep in touch: a customer not seen for COMPLAINTS_KEEP_IN_TOUCH_AFTER gets one advertising
message, with a basis and at allowed hours, once per visit it follows (the next visit
starts the rhythm again). Run hourly by a Temporal Schedule (workflows/keep_in_touch.py);
`complaints keep-in-touch --dry-run` lists who would get one now.

A sweep over an indexed query, not a durable timer per customer: with 100,000 customers a
timer each would be 100,000 workflows whose only job is to wait, each with a history to
keep and replay, and every visit would have to signal one. The sweep costs one query an
hour, restarts the rhythm on a visit or a closed case by itself (the period is the last
contact: the later of the last visit and the last closed case), and a customer held by the
night or the once-a-day rule is simply picked up by a later run (the query leaves them out of
the batch the run sends to, so however many are held, the others are reached).

A regular customer (silver, gold) whom no message may reach (no consent and no visit in 6
months, or they asked for no messages) gets a call instead: staff are reminded, once per
visit it follows, during opening hours, through the staff sender (the webhook, else the
log). Not one who opted out: asking them for consent again would itself be advertising.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from domain.advertising import (
    KEEP_IN_TOUCH,
    advertising_text,
    at_night,
    call_instead_of_advertising,
    may_advertise,
)
from domain.notifications import keep_in_touch_call
from domain.wording import Language
from infra.links import LinkSigner, link_signer, opt_out_url
from infra.settings import Settings
from notify.registry import message_sender, senders_for
from notify.solapi import MessageSender
from notify.standin import STANDIN_SENDER
from store import advertising, calendar, reminders
from store.advertising import Candidate
from store.delivery import Sender
from store.reminders import CallCandidate

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Planned:
    candidate: Candidate
    basis: str | None
    held: str  # why not now ("" when it goes)


@dataclass(frozen=True)
class CallPlanned:
    candidate: CallCandidate
    held: str  # why not now ("" when staff are reminded)


REMINDER_KIND = "keep_in_touch_call"
OUTSIDE_HOURS = "outside opening hours"


async def always_open(now: datetime) -> bool:
    return True


@dataclass
class KeepInTouchRun:
    due: int = 0
    sent: int = 0
    held: int = 0
    failed: int = 0
    found: int = 0  # sent by an earlier try whose answer was lost: recorded, not resent
    reminded: int = 0  # staff reminders to call a regular customer no message may reach
    planned: list[Planned] = field(default_factory=list)
    calls: list[CallPlanned] = field(default_factory=list)
    refused: str = ""  # why nothing could be sent at all

    def counts(self) -> dict[str, int]:
        return {
            "due": self.due,
            "sent": self.sent,
            "held": self.held,
            "failed": self.failed,
            "found": self.found,
            "calls": len(self.calls),
            "reminded": self.reminded,
        }


@dataclass(frozen=True)
class KeepInTouch:
    pool: asyncpg.Pool
    sender: MessageSender | None
    links: LinkSigner | None
    zone: ZoneInfo
    after: timedelta
    public_url: str
    shop_name: str
    shop_contact: str
    language: Language = "ko"
    limit: int = 500
    # A claim outlives one send (lookup, send, status); after it, a later run settles it.
    lease: timedelta = timedelta(minutes=2)
    # Staff reminders in place of messages: to whom (None: none), for which customers (the
    # visits silver starts at), when (the shop's opening hours), linking to the case page.
    staff: Sender | None = None
    regular_from: int = 3
    is_open: Callable[[datetime], Awaitable[bool]] = always_open
    staff_link: str = ""

    async def plan(self, now: datetime) -> list[Planned]:
        """Those a message may reach now, then those the hour or the once-a-day rule holds
        (each at most `limit`, asked apart: the held never crowd out the others)."""
        night = at_night(now, self.zone)
        planned = []
        for held in (False, True):
            for c in await advertising.due(self.pool, now, self.after, night, self.limit, held):
                verdict = may_advertise(c.consent, now, self.zone, c.last_advertised_at)
                planned.append(Planned(c, verdict.basis, verdict.reason))
        return planned

    async def plan_calls(self, now: datetime) -> list[CallPlanned]:
        if self.staff is None:
            return []
        due = await reminders.due(self.pool, now, self.after, self.regular_from, self.limit)
        calls = [
            c
            for c in due
            if call_instead_of_advertising(
                c.consent, now, c.visits, self.regular_from, c.no_messages
            )
        ]
        held = "" if not calls or await self.is_open(now) else OUTSIDE_HOURS
        return [CallPlanned(c, held) for c in calls]

    async def remind(self, result: KeepInTouchRun, now: datetime) -> None:
        """Tell staff to call each regular customer no message may reach (not held)."""
        assert self.staff is not None or not result.calls
        for call in result.calls:
            if call.held or self.staff is None:
                continue
            c = call.candidate
            reminder_id = await reminders.claim(self.pool, c)
            if reminder_id is None:
                continue
            text = keep_in_touch_call(
                c.customer_id,
                c.visits,
                c.last_visit_at or c.last_contact_at,
                self.zone.key,
                self.language,
            )
            link = ""
            if c.last_case_id and self.staff_link:
                link = f"{self.staff_link.rstrip('/')}/staff/cases/{c.last_case_id}"
            notice = {
                "id": reminder_id,
                "case_id": c.last_case_id,
                "kind": REMINDER_KIND,
                "recipient": "staff",
                "message": f"{text}\n{link}" if link else text,
                "data": {"customer_id": c.customer_id, "visits": c.visits},
                "created_at": now,
                **({"link": link} if link else {}),
            }
            try:
                await self.staff.send(notice)
            except Exception as err:  # one reminder's trouble must not stop the others
                await reminders.failed(self.pool, reminder_id, f"{type(err).__name__}: {err}")
                result.failed += 1
                log.warning("keep-in-touch reminder not sent", reminder_id=reminder_id)
                continue
            await reminders.sent(self.pool, reminder_id)
            result.reminded += 1

    def refusal(self) -> str:
        if self.sender is None or self.links is None:
            return "customer messages are off (COMPLAINTS_MESSAGES)"
        if not self.shop_name.strip() or not self.shop_contact.strip():
            return "advertising names the shop and its contact: set COMPLAINTS_SHOP_NAME"
        return ""

    async def run(self, now: datetime, dry_run: bool = False) -> KeepInTouchRun:
        planned = await self.plan(now)
        result = KeepInTouchRun(due=len(planned), planned=planned, refused=self.refusal())
        result.held = sum(1 for p in planned if p.held)
        result.calls = await self.plan_calls(now)
        if dry_run:
            return result
        await self.remind(result, now)  # staff are reminded even with messages off
        if result.refused:
            return result
        assert self.sender is not None and self.links is not None
        if await self.settle(result, now):
            planned = await self.plan(now)  # periods released for a fresh try are due again
            result.due, result.planned = len(planned), planned
            result.held = sum(1 for p in planned if p.held)
        for p in planned:
            if p.held or p.basis is None:
                continue
            ad_id = await advertising.claim(self.pool, p.candidate, p.basis, now, self.lease)
            if ad_id is None:
                continue
            link = opt_out_url(self.public_url, self.links, p.candidate.customer_id, now)
            text = advertising_text(
                KEEP_IN_TOUCH, self.language, self.shop_name, self.shop_contact, link
            )
            try:
                delivery = await self.sender.send_advertisement(ad_id, p.candidate.phone, text)
            except Exception as err:  # one customer's trouble must not stop the others
                await advertising.failed(self.pool, ad_id, f"{type(err).__name__}: {err}")
                result.failed += 1
                log.warning("keep-in-touch message not sent", ad_id=ad_id, error=str(err))
                continue
            await advertising.sent(self.pool, ad_id, delivery.as_json(), now)
            result.sent += 1
        return result

    async def settle(self, result: KeepInTouchRun, now: datetime) -> int:
        """Claims an earlier try left without an outcome (its send raised, or its sender
        died before recording it): each is looked up at the provider by its id first. A
        message found there is recorded as sent, never sent again; one not found releases
        its claim, so the period is planned afresh. Returns how many were released."""
        assert self.sender is not None
        released = 0
        for claim in await advertising.unsettled(self.pool, self.lease, self.limit):
            if claim.phone is None:  # forgotten meanwhile: nothing to look up or send
                await advertising.release(self.pool, claim.ad_id)
                continue
            try:
                found = await self.sender.find_advertisement(claim.ad_id, claim.phone)
            except Exception as err:  # cannot tell: the claim waits for a later run
                await advertising.failed(self.pool, claim.ad_id, f"{type(err).__name__}: {err}")
                result.failed += 1
                log.warning("keep-in-touch message not looked up", ad_id=claim.ad_id)
                continue
            if found is not None:
                await advertising.sent(self.pool, claim.ad_id, found.as_json(), now)
                result.found += 1
                log.info("keep-in-touch message sent before; recorded", ad_id=claim.ad_id)
                continue
            await advertising.release(self.pool, claim.ad_id)
            released += 1
        return released


def keep_in_touch_for(pool: asyncpg.Pool, settings: Settings) -> KeepInTouch:
    """The keep-in-touch run the settings choose (the customer's message sender, the link
    key, the shop's name and contact: the sender number unless COMPLAINTS_SHOP_CONTACT)."""
    sender = message_sender(settings)
    try:
        links: LinkSigner | None = link_signer(settings)
    except ValueError:
        links = None
    contact = settings.shop_contact or (
        STANDIN_SENDER if settings.messages == "standin" else settings.sender_number or ""
    )

    async def is_open(now: datetime) -> bool:
        closed = await calendar.closures(pool, now.astimezone(settings.zone).date())
        return settings.calendar(closed, now).is_open(now)

    return KeepInTouch(
        pool=pool,
        sender=sender,
        links=links,
        zone=settings.zone,
        after=settings.keep_in_touch_after,
        public_url=settings.public_url,
        shop_name=settings.shop_name,
        shop_contact=contact,
        language=settings.language,
        staff=senders_for(settings).staff,
        regular_from=settings.silver_from_visits,
        is_open=is_open,
        staff_link=settings.public_url,
    )
