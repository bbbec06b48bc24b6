"""Taking a rulebook change to the open cases: each is signalled `rules_changed`, a batch
at a time, by the process that stored the change and, if that one missed any (it died
partway, or Temporal was away), again by the notification sweep. A signalled case reads
the rules and records `rules_changed` only if they differ from its own, so signalling it
twice is harmless."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from infra import shop_ids
from store import rulebook, scope, shops

# Signals go out this many at a time: each wakes a case that reads the rulebook through an
# activity, so a shop with thousands of open cases feeds the workers a steady stream
# instead of a burst.
SIGNAL_BATCH = 16
# A change still marked this long after it was stored is taken to be missed (the process
# storing it signals at once; a shop's open cases take seconds).
REDELIVER_AFTER = timedelta(minutes=1)
REDELIVERED = "the rulebook changed (delivered again by the sweep)"


@dataclass(frozen=True)
class Reach:
    reached: int  # open cases signalled
    unreached: int  # open cases the signal did not reach: they keep old rules for now


async def reach_open_cases(pool: asyncpg.Pool, client: Client | None, reason: str) -> Reach:
    """Signal `rules_changed` to every open case, SIGNAL_BATCH at a time; with none
    missed, the change is marked delivered (unless a newer one came meanwhile). `client`
    None: Temporal is away, nothing reached (the sweep delivers it later)."""
    shop = scope.shop_now()
    version = await rulebook.delivery_version(pool)  # before the open cases are read
    ids = await rulebook.open_case_ids(pool)
    if client is None and ids:
        return Reach(0, len(ids))

    async def signal(case_id: str) -> str:
        assert client is not None
        try:
            await client.get_workflow_handle(shop_ids.workflow_id(shop, case_id)).signal(
                "rules_changed", reason[:500]
            )
        except RPCError as err:
            # Ended since (or never started): it runs by no rules, nothing to resend.
            return "gone" if err.status == RPCStatusCode.NOT_FOUND else "missed"
        return "reached"

    results: list[str] = []
    for start in range(0, len(ids), SIGNAL_BATCH):
        results += await asyncio.gather(*(signal(i) for i in ids[start : start + SIGNAL_BATCH]))
    if "missed" not in results:
        await rulebook.delivered(pool, version)
    reached = results.count("reached")
    return Reach(reached, len(ids) - reached)


async def redeliver(
    pool: asyncpg.Pool, client: Client, older_than: timedelta = REDELIVER_AFTER
) -> dict[str, int]:
    """The sweep's step, shop after shop: one cheap read of the shop's mark and, if a change
    was left undelivered for `older_than`, every open case of the shop signalled again."""
    counts = {"rules_reached": 0, "rules_unreached": 0}
    for shop in await shops.ids(pool):
        with scope.shop(shop):
            if await rulebook.undelivered(pool, older_than) is None:
                continue
            done = await reach_open_cases(pool, client, REDELIVERED)
        counts["rules_reached"] += done.reached
        counts["rules_unreached"] += done.unreached
    return counts
