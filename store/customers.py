"""Customers: the only home of names and phone numbers. Cases and Temporal know a customer
by reference (`cus-...`); visits recorded at the counter set the tier; `forget` removes a
customer's personal data and keeps the anonymous facts reports count."""

import secrets
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from domain.model import CustomerProfile, Phone
from domain.policy import tier_for
from store import records, referrals
from store.connections import Db
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
        return Contact(customer_id=row["id"], name=row["name"], phone=row["phone"]), row["made"]

    async def rename(self, customer_id: str, name: str) -> Contact:
        """The name staff asked for (`--rename`), once the case it came with is open."""
        row = await self.pool.fetchrow(
            "UPDATE customers SET name = $2 WHERE id = $1 RETURNING id, name, phone",
            customer_id,
            name,
        )
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
        async with self.pool.acquire() as conn, conn.transaction():
            referrer = None
            if referred_by is not None:
                known = await conn.fetchval("SELECT id FROM customers WHERE phone = $1", phone)
                referrer = await referrals.referrer_of(conn, known, referred_by)
            row = await conn.fetchrow(_UPSERT, new_customer_id(), phone, name, 1, now)
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
        """Remove the customer's name and phone from every table, in one transaction.

        Redacted in place rather than crypto-shredded: PostgreSQL is the only place they
        live (Temporal holds a reference), so one transaction reaches every copy and a test
        can prove it; no per-customer key has to outlive backups. The case rows, events and
        counts stay, anonymous: reports still count the case, its steps and its rating.
        What the customer wrote in free text (the complaint's own words) is kept as the
        case's record; staff remove names typed into it by hand if asked.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            customer_id = await conn.fetchval("SELECT id FROM customers WHERE phone = $1", phone)
            ref = customer_id or FORGOTTEN
            cases = await conn.fetch(
                "UPDATE complaint_cases SET customer_phone = NULL, customer_id = $2,"
                " state = (state::jsonb - 'customer')"  # a json column: edited as jsonb
                " || jsonb_build_object('customer_id', $2::text),"
                " rev = gen_random_uuid()"  # workers' copies of these rows are stale now
                " WHERE customer_phone = $1 OR (customer_id = $2 AND $2 <> $3) RETURNING case_id",
                phone,
                ref,
                FORGOTTEN,
            )
            case_ids = [r["case_id"] for r in cases]
            if hold_years:  # the legal hold: a minimal record, apart (store.records)
                held = await records.keep(conn, case_ids, hold_years)
            events = await conn.execute(
                "UPDATE complaint_events"
                " SET data = (data - 'customer') || jsonb_build_object('customer_id', $2::text)"
                " WHERE type = 'case_opened' AND case_id = ANY($1)"
                " AND jsonb_typeof(data -> 'customer') = 'object'",
                case_ids,
                ref,
            )
            notices = await conn.execute(
                "UPDATE notifications SET data = data - 'to'"
                " WHERE case_id = ANY($1) AND data ? 'to'",
                case_ids,
            )
            # Photos they sent may show them, their home or their things: gone, not kept.
            await conn.execute("DELETE FROM case_photos WHERE case_id = ANY($1)", case_ids)
            await conn.execute(
                "UPDATE customers SET phone = 'forgotten:' || id, name = NULL,"
                " forgotten_at = now() WHERE phone = $1",
                phone,
            )
        return Forgotten(
            customer_id=customer_id,
            cases=len(case_ids),
            events=int(events.split()[-1]),
            notices=int(notices.split()[-1]),
            records=held if hold_years else 0,
        )
