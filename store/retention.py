"""Retention: the personal data of customers whose cases all closed longer ago than
`COMPLAINTS_RETENTION` (3 years by default) is removed with `forget`'s own transaction
(store.customers): their name, phone and every free text of their cases go; the anonymous
cases, events and counts stay.

Who is due: a customer not forgotten yet, with at least one case, every case of theirs closed
or withdrawn before the cutoff, and no visit since the cutoff (a returning customer is kept
for the tier and the next case). Cases from before customer references keep the phone on the
case row; those are due by the same rule, by that phone.

The legal hold goes along: a shop subject to it (COMPLAINTS_COMPLAINT_RECORDS_HOLD) keeps the
minimal record of each case for its years from the closing, as `complaints forget` does, so
a retention period shorter than the hold never destroys what the law asks to be kept."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
import structlog

from store.customers import CustomerDirectory

log = structlog.get_logger(__name__)

_PERIOD = re.compile(r"^\s*(\d+)\s*([yd])\s*$")
OFF = ("off", "never", "")


@dataclass(frozen=True)
class Retention:
    years: int = 0
    days: int = 0

    def __str__(self) -> str:
        return f"{self.years}y" if self.years else f"{self.days}d"

    def cutoff(self, now: datetime) -> datetime:
        """`now` minus the period, by the calendar for years (29 February -> 28th)."""
        if self.years:
            try:
                return now.replace(year=now.year - self.years)
            except ValueError:
                return now.replace(year=now.year - self.years, day=28)
        return now - timedelta(days=self.days)


def parse_retention(text: str) -> Retention | None:
    """`3y`, `400d`, or `off` (None: kept until `complaints forget`)."""
    if text.strip().lower() in OFF:
        return None
    match = _PERIOD.match(text.lower())
    if not match or int(match[1]) == 0:
        raise ValueError(
            f"{text!r} is not a retention period; write e.g. 3y, 400d, or off (keep until forget)"
        )
    n = int(match[1])
    return Retention(years=n) if match[2] == "y" else Retention(days=n)


@dataclass
class Due:
    """What a run found (and, unless a dry run, removed): never a phone or a name."""

    cutoff: datetime
    customers: list[str] = field(default_factory=list)  # customer ids
    legacy_cases: list[str] = field(default_factory=list)  # cases holding a phone themselves
    cases: int = 0
    people: int = 0  # customers plus the distinct phones on legacy cases
    records: int = 0  # minimal complaint records kept under the legal hold


_DUE_CUSTOMERS = """
SELECT u.id, u.phone, count(c.case_id) AS cases FROM customers u
JOIN complaint_cases c ON c.customer_id = u.id
WHERE u.forgotten_at IS NULL
  AND (u.last_visit_at IS NULL OR u.last_visit_at < $1)
GROUP BY u.id, u.phone
HAVING bool_and(c.status IN ('closed', 'withdrawn')
                AND COALESCE(c.closed_at, c.updated_at) < $1)
ORDER BY u.id
"""
_DUE_LEGACY = """
SELECT customer_phone AS phone, array_agg(case_id ORDER BY case_id) AS cases
FROM complaint_cases WHERE customer_phone IS NOT NULL AND customer_id IS NULL
GROUP BY customer_phone
HAVING bool_and(status IN ('closed', 'withdrawn') AND COALESCE(closed_at, updated_at) < $1)
"""


async def apply(
    pool: asyncpg.Pool, cutoff: datetime, dry_run: bool, hold_years: int | None = None
) -> Due:
    due = Due(cutoff=cutoff)
    directory = CustomerDirectory(pool)
    phones: list[tuple[str, str]] = []  # (phone, what the log may name instead)
    for r in await pool.fetch(_DUE_CUSTOMERS, cutoff):
        due.customers.append(r["id"])
        due.cases += r["cases"]
        phones.append((r["phone"], r["id"]))
    for r in await pool.fetch(_DUE_LEGACY, cutoff):
        due.legacy_cases += r["cases"]
        due.cases += len(r["cases"])
        phones.append((r["phone"], f"case {r['cases'][0]}"))
    due.people = len(phones)
    if dry_run:
        log.info(
            "retention dry run",
            cutoff=cutoff.isoformat(),
            customers=len(due.customers),
            cases=due.cases,
        )
        return due
    for phone, ref in phones:
        done = await directory.forget(phone, hold_years)
        due.records += done.records
        log.info(
            "retention: customer data removed",
            customer_id=done.customer_id,
            reference=ref,
            cases=done.cases,
            events=done.events,
            notices=done.notices,
            records_kept=done.records,
        )
    log.info("retention applied", cutoff=cutoff.isoformat(), customers=len(phones))
    return due
