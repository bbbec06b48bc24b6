"""Marketing consent: as it stands on `customers`, and every grant and withdrawal in
`customer_consents` (when, how, by whom), written in one transaction."""

from datetime import datetime

import asyncpg
from pydantic import BaseModel

from domain.advertising import Consent
from store.connections import Conn, one_row
from store.customers import new_customer_id

MARKETING, NIGHT = "marketing", "night"


class ConsentState(BaseModel):
    """A customer's consent as staff and scripts see it."""

    customer_id: str
    marketing: bool
    night: bool
    marketing_since: datetime | None
    night_since: datetime | None
    opted_out_at: datetime | None


_STATE = """
SELECT id, marketing_consent_at, night_consent_at, opted_out_at, last_visit_at
FROM customers WHERE id = $1 AND forgotten_at IS NULL
"""


def _state(row: asyncpg.Record) -> ConsentState:
    return ConsentState(
        customer_id=row["id"],
        marketing=row["marketing_consent_at"] is not None,
        night=row["night_consent_at"] is not None,
        marketing_since=row["marketing_consent_at"],
        night_since=row["night_consent_at"],
        opted_out_at=row["opted_out_at"],
    )


def consent_of(row: asyncpg.Record) -> Consent:
    """The domain's view of a `customers` row (with the consent columns)."""
    return Consent(
        marketing_at=row["marketing_consent_at"],
        night_at=row["night_consent_at"],
        opted_out_at=row["opted_out_at"],
        last_transaction_at=row["last_visit_at"],
    )


class ConsentChange(BaseModel):
    """One grant or withdrawal: what, when, how (cli, api, staff_page, opt_out_link), by
    whom (a staff member's name, or "customer")."""

    scope: str
    given: bool
    recorded_at: datetime
    via: str
    by_whom: str


class ConsentCard(BaseModel):
    """A customer's consent as the staff pages show it: as it stands, and its last change."""

    state: ConsentState | None  # None: the number has no customer on file (never asked)
    last: ConsentChange | None


class ConsentBook:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, phone: str, given: bool, night: bool, via: str, by: str) -> ConsentState:
        """Consent given or withdrawn for a normalized phone (a number not on file is added,
        without a name: consent can come before the first visit).

        `given` with `night`: marketing and night-time consent; `given` alone: marketing.
        Withdrawn with `night`: the night-time consent only; withdrawn alone: both (no
        night-time messages without the consent they extend)."""
        async with self.pool.acquire() as conn, conn.transaction():
            customer_id = await conn.fetchval(
                "INSERT INTO customers (id, phone, visits) VALUES ($1, $2, 0)"
                " ON CONFLICT (shop_id, phone) DO UPDATE SET forgotten_at = NULL RETURNING id",
                new_customer_id(),
                phone,
            )
            return await self._change(conn, customer_id, given, night, via, by)

    async def withdraw(self, customer_id: str, via: str, by: str) -> ConsentState | None:
        """The opt-out (from the link in a message): both consents withdrawn; None for a
        customer no longer on file."""
        async with self.pool.acquire() as conn, conn.transaction():
            known = await conn.fetchval(
                "SELECT id FROM customers WHERE id = $1 AND forgotten_at IS NULL FOR UPDATE",
                customer_id,
            )
            if known is None:
                return None
            return await self._change(conn, customer_id, False, False, via, by)

    async def state(self, customer_id: str) -> ConsentState | None:
        row = await self.pool.fetchrow(_STATE, customer_id)
        return _state(row) if row else None

    async def card(self, phone: str) -> ConsentCard:
        """The consent of the customer with this normalized phone, and its last change."""
        row = await self.pool.fetchrow(
            "SELECT id, marketing_consent_at, night_consent_at, opted_out_at, last_visit_at"
            " FROM customers WHERE phone = $1 AND forgotten_at IS NULL",
            phone,
        )
        if row is None:
            return ConsentCard(state=None, last=None)
        last = await self.pool.fetchrow(
            "SELECT scope, given, recorded_at, via, by_whom FROM customer_consents"
            # one change may write both scopes (in one transaction): it reads as the marketing one
            " WHERE customer_id = $1 ORDER BY recorded_at DESC, scope = 'marketing' DESC, id DESC"
            " LIMIT 1",
            row["id"],
        )
        return ConsentCard(state=_state(row), last=ConsentChange(**dict(last)) if last else None)

    async def history(self, customer_id: str) -> list[dict[str, object]]:
        rows = await self.pool.fetch(
            "SELECT scope, given, recorded_at, via, by_whom FROM customer_consents"
            " WHERE customer_id = $1 ORDER BY id",
            customer_id,
        )
        return [dict(r) for r in rows]

    async def _change(
        self,
        conn: Conn,
        customer_id: str,
        given: bool,
        night: bool,
        via: str,
        by: str,
    ) -> ConsentState:
        if given:
            scopes = [MARKETING, NIGHT] if night else [MARKETING]
            await conn.execute(
                "UPDATE customers SET"
                " marketing_consent_at = COALESCE(marketing_consent_at, now()),"
                " night_consent_at = CASE WHEN $2 THEN COALESCE(night_consent_at, now())"
                "                    ELSE night_consent_at END,"
                " opted_out_at = NULL WHERE id = $1",
                customer_id,
                night,
            )
        elif night:
            scopes = [NIGHT]
            await conn.execute(
                "UPDATE customers SET night_consent_at = NULL WHERE id = $1", customer_id
            )
        else:
            scopes = [MARKETING, NIGHT]
            await conn.execute(
                "UPDATE customers SET marketing_consent_at = NULL, night_consent_at = NULL,"
                " opted_out_at = now() WHERE id = $1",
                customer_id,
            )
        await conn.executemany(
            "INSERT INTO customer_consents (customer_id, scope, given, via, by_whom)"
            " VALUES ($1, $2, $3, $4, $5)",
            [(customer_id, scope, given, via, by) for scope in scopes],
        )
        return _state(one_row(await conn.fetchrow(_STATE, customer_id)))
