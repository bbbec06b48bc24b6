"""Customers: the only home of names and phone numbers. Cases and Temporal know a customer
by reference (`cus-...`); visits recorded at the counter set the tier; `forget` removes a
customer's personal data and every free text of their cases, and keeps the anonymous facts
reports count."""

import secrets
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from domain.decider import evolve
from domain.events import EVENT_ADAPTER, Event
from domain.model import CaseState, CustomerProfile, Phone
from domain.notifications import CUSTOMER
from domain.policy import tier_for
from domain.redaction import REDACTED, redacted
from store import records, referrals
from store.connections import Conn, Db, one_connection, one_row
from store.folding import CASE_COLUMNS, case_row
from store.referrals import RewardTerms

FORGOTTEN = "forgotten"


class TierThresholds(BaseModel):
    silver_from: int = Field(default=3, ge=1)
    gold_from: int = Field(default=5, ge=1)


class Contact(BaseModel):
    """A customer as the shop's own staff see them: never sent to Temporal or logged."""

    customer_id: str
    name: str | None
    phone: str


class Forgotten(BaseModel):
    customer_id: str | None
    cases: int
    events: int
    notices: int
    records: int = 0  # minimal complaint records kept under the legal hold


# Customer ids read like case ids (Crockford's base32: no i, l, o or u), drawn here so
# storage needs nothing from the case-id helpers above it.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_customer_id() -> str:
    return "cus-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


_UPSERT = """
INSERT INTO customers (id, phone, name, visits, first_visit_at, last_visit_at)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (shop_id, phone) DO UPDATE SET
  visits = customers.visits + EXCLUDED.visits,
  name = COALESCE(EXCLUDED.name, customers.name),
  last_visit_at = CASE WHEN EXCLUDED.visits > 0 THEN EXCLUDED.last_visit_at
                       ELSE customers.last_visit_at END,
  forgotten_at = NULL
RETURNING id
"""


class CustomerDirectory:
    def __init__(self, pool: Db, thresholds: TierThresholds | None = None) -> None:
        self.pool = pool  # or the one connection an opening holds
        self.thresholds = thresholds or TierThresholds()

    async def find(self, phone: Phone) -> Contact | None:
        """The customer on file for this number, if any; nothing is written."""
        row = await self.pool.fetchrow(
            "SELECT id, name, phone FROM customers WHERE phone = $1 AND forgotten_at IS NULL",
            phone,
        )
        return Contact(customer_id=row["id"], name=row["name"], phone=row["phone"]) if row else None

    async def register(self, phone: Phone, name: str, rename: bool = False) -> Contact:
        """The customer's reference, made on first contact (a complaint is not a visit).
        A number on file keeps its name unless `rename`: a typo in one complaint must not
        change whom staff ask for on the phone."""
        contact, _ = await self.enter(phone, name, rename)
        return contact

    async def enter(self, phone: Phone, name: str, rename: bool = False) -> tuple[Contact, bool]:
        """`register`, and whether this call made the row (so a refused opening can take
        back what it wrote: `discard_unused`)."""
        row = await self.pool.fetchrow(
            """
            INSERT INTO customers (id, phone, name, visits) VALUES ($1, $2, $3, 0)
            ON CONFLICT (shop_id, phone) DO UPDATE SET
              name = CASE WHEN $4 OR customers.name IS NULL THEN EXCLUDED.name
                          ELSE customers.name END,
              forgotten_at = NULL
            RETURNING id, name, phone, (xmax = 0) AS made
            """,
            new_customer_id(),
            phone,
            name,
            rename,
        )
        row = one_row(row)
        return Contact(customer_id=row["id"], name=row["name"], phone=row["phone"]), row["made"]

    async def rename(self, customer_id: str, name: str) -> Contact:
        """The name staff asked for (`--rename`), once the case it came with is open."""
        row = await self.pool.fetchrow(
            "UPDATE customers SET name = $2 WHERE id = $1 RETURNING id, name, phone",
            customer_id,
            name,
        )
        row = one_row(row)
        return Contact(customer_id=row["id"], name=row["name"], phone=row["phone"])

    async def discard_unused(self, customer_id: str) -> bool:
        """Take back a customer row an opening made and then could not use: only while
        nothing refers to it (no case, visit, consent or referral)."""
        status = await self.pool.execute(
            """
            DELETE FROM customers u
            WHERE u.id = $1 AND u.visits = 0 AND u.referred_by IS NULL
              AND NOT EXISTS (SELECT 1 FROM complaint_cases c WHERE c.customer_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM customer_visits v WHERE v.customer_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM customer_consents k WHERE k.customer_id = u.id)
            """,
            customer_id,
        )
        return str(status) == "DELETE 1"

    async def contact(self, customer_id: str) -> Contact | None:
        """Whom staff call about a case: None once the customer was forgotten."""
        row = await self.pool.fetchrow(
            "SELECT id, name, phone FROM customers WHERE id = $1 AND forgotten_at IS NULL",
            customer_id,
        )
        return Contact(customer_id=row["id"], name=row["name"], phone=row["phone"]) if row else None

    async def record_visit(
        self,
        phone: Phone,
        name: str | None = None,
        referred_by: Phone | None = None,
        terms: RewardTerms | None = None,
    ) -> CustomerProfile:
        """One more visit; `phone` must already be normalized (the Phone type does it). With
        `referred_by` (the referrer's phone) the referral and both sides' rewards are
        recorded in the same transaction (store.referrals; ReferralRefused if it cannot be)."""
        now = datetime.now(UTC)
        async with one_connection(self.pool) as conn, conn.transaction():
            referrer = None
            if referred_by is not None:
                known = await conn.fetchval("SELECT id FROM customers WHERE phone = $1", phone)
                referrer = await referrals.referrer_of(conn, known, referred_by)
            row = one_row(await conn.fetchrow(_UPSERT, new_customer_id(), phone, name, 1, now))
            await referrals.record(conn, row["id"], now, referrer, terms or RewardTerms())
        return await self.profile(row["id"])

    async def profile(self, ref: str) -> CustomerProfile:
        """By reference; a phone (`+82...`) for cases opened before references existed."""
        row = await self.pool.fetchrow(
            """
            WITH c AS (SELECT id, phone, visits FROM customers WHERE id = $1 OR phone = $1)
            SELECT (SELECT visits FROM c) AS visits,
                   (SELECT count(*) FROM complaint_cases
                    WHERE customer_id = (SELECT id FROM c)
                       OR customer_phone = (SELECT phone FROM c)
                       OR customer_phone = $1) AS cases
            """,
            ref,
        )
        row = one_row(row)
        visits = row["visits"] or 0
        t = self.thresholds
        return CustomerProfile(
            visits=visits,
            tier=tier_for(visits, t.silver_from, t.gold_from),
            previous_cases=row["cases"],
        )

    async def address(self, customer_id: str) -> str | None:
        """Where a notice to the customer goes; None once they were forgotten."""
        phone: str | None = await self.pool.fetchval(
            "SELECT phone FROM customers WHERE id = $1 AND forgotten_at IS NULL", customer_id
        )
        return phone

    async def forget(self, phone: Phone, hold_years: int | None = None) -> Forgotten:
        """Remove the customer's name, phone and every free text of their cases, in one
        transaction.

        Redacted in place rather than crypto-shredded: PostgreSQL is the only place they
        live outside sealed Temporal histories, so one transaction reaches every copy and a
        test can prove it; no per-customer key has to outlive backups. Each event keeps its
        case, sequence number and id (the append's checks and replays see the same
        sequence); its free text is replaced (domain.redaction), and the case's row is the
        fold of the redacted events, as a rebuild makes it. Reports still count the case,
        its steps and its rating. What the customer wrote back and sent as photos goes.
        With `hold_years` the minimal record of each case is kept apart (store.records).
        """
        async with one_connection(self.pool) as conn, conn.transaction():
            customer_id = await conn.fetchval("SELECT id FROM customers WHERE phone = $1", phone)
            ref = customer_id or FORGOTTEN
            # The rows' locks first: an append to one of these cases waits for this commit,
            # then finds its copy stale (the new `rev`) and reads the redacted row.
            case_ids: list[str] = [
                r["case_id"]
                for r in await conn.fetch(
                    "SELECT case_id FROM complaint_cases WHERE customer_phone = $1"
                    " OR (customer_id = $2 AND $2 <> $3) ORDER BY case_id FOR UPDATE",
                    phone,
                    ref,
                    FORGOTTEN,
                )
            ]
            held = await records.keep(conn, case_ids, hold_years) if hold_years else 0
            events = await _redact_cases(conn, case_ids, ref)
            notices = await conn.execute(
                "UPDATE notifications SET message = $2, data = data - 'to' - 'reason' - 'measure'"
                " WHERE case_id = ANY($1) AND recipient = $3 AND message <> $2",
                case_ids,
                REDACTED,
                CUSTOMER,
            )
            # What they wrote back, and photos that may show them, their home or their
            # things: gone, not kept.
            await conn.execute("DELETE FROM customer_notes WHERE case_id = ANY($1)", case_ids)
            await conn.execute("DELETE FROM case_photos WHERE case_id = ANY($1)", case_ids)
            await conn.execute(
                "UPDATE customers SET phone = 'forgotten:' || id, name = NULL,"
                " forgotten_at = now() WHERE phone = $1",
                phone,
            )
        return Forgotten(
            customer_id=customer_id,
            cases=len(case_ids),
            events=events,
            notices=int(notices.split()[-1]),
            records=held,
        )


_EVENTS = (
    "SELECT case_id, seq, data::text AS data FROM complaint_events"
    " WHERE case_id = ANY($1) ORDER BY case_id, seq"
)
_REDACT_EVENTS = """
UPDATE complaint_events e SET data = u.data::jsonb
FROM unnest($1::text[], $2::integer[], $3::text[]) AS u(case_id, seq, data)
WHERE e.case_id = u.case_id AND e.seq = u.seq
"""
_CASE_COLUMNS = [c.strip() for c in CASE_COLUMNS.split(",")]
# The row as the fold of its events gives it; a new `rev`: workers' copies are stale now.
_REWRITE_CASE = (
    "UPDATE complaint_cases SET "
    + ", ".join(
        f"{c} = ${i}" + ("::json" if c == "state" else "")
        for i, c in enumerate(_CASE_COLUMNS, 1)
        if c != "case_id"
    )
    + ", rev = gen_random_uuid() WHERE case_id = $1"
)


async def _redact_cases(conn: Conn, case_ids: list[str], ref: str) -> int:
    """Every event of these cases without free text, their customer named by `ref`; each
    case's row folded again from its redacted events. Returns how many events changed."""
    by_case: dict[str, list[tuple[int, Event]]] = {}
    changed: list[tuple[str, int, str]] = []
    for r in await conn.fetch(_EVENTS, case_ids):
        stored = EVENT_ADAPTER.validate_json(r["data"])
        event = redacted(stored, ref)
        by_case.setdefault(r["case_id"], []).append((r["seq"], event))
        if event != stored:  # an event with nothing to remove stays as it was written
            changed.append((r["case_id"], r["seq"], event.model_dump_json()))
    if changed:
        await conn.execute(_REDACT_EVENTS, *(list(column) for column in zip(*changed, strict=True)))
    rows = []
    for events in by_case.values():
        state: CaseState | None = None
        for _, event in events:
            state = evolve(state, event)
        assert state is not None
        rows.append(case_row(state))
    await conn.executemany(_REWRITE_CASE, rows)
    return len(changed)
