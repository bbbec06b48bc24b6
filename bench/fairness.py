"""Fairness between shops: does one busy shop slow the others down?

Twenty quiet shops each open a case a second through the application layer, as the API
and the form do (a case opened, then its apology: what a member of staff waits for); their
p95 is measured alone, then again while one noisy shop asks to open `noisy_rate` a second
on the same worker and task queue. What protects the quiet shops is the door's limit on a
shop's openings a minute (COMPLAINTS_SHOP_OPENINGS_PER_MINUTE): the noisy shop's openings
past it are refused at once (counted here). The figure is the quiet shops' p95 beside the
noisy one over their p95 alone.
"""

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from app import cases
from app.context import Context
from app.identity import Actor, Role
from app.refusals import NotStoredYet, TooMany
from infra.keys import add_shop_key
from infra.shop_ids import new_shop_id
from store import shops


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


LATE = -1.0  # a case that did not get through: its opening or its apology timed out


async def _one(ctx: Context, shop: str) -> float | None:
    """Milliseconds from asking to open a case to its apology stored; None when the shop's
    limit refused the opening; LATE when the saturated machine did not store it in time (the
    client's own timeouts), counted apart, not left out silently."""
    actor = Actor("Bench Staff", Role.STAFF, shop=shop)
    phone = f"010-{2000 + uuid.uuid4().int % 3000:04d}-{uuid.uuid4().int % 10000:04d}"
    t = time.perf_counter()
    try:
        opened = await cases.open_case(
            ctx, actor, name="Bench Customer", phone=phone, channel="phone",
            motive="compensation", what="benchmark case",
        )  # fmt: skip
        await cases.apologize(ctx, actor, opened.case_id, "Sorry for the wait")
    except TooMany:
        return None
    except (NotStoredYet, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError):
        return LATE
    return (time.perf_counter() - t) * 1000


async def _steady(
    ctx: Context, shop: str, rate: float, seconds: float, phase: float = 0.0
) -> list[float | None]:
    """Open-loop: a case every 1/rate seconds whether the last has finished or not, the
    first after `phase` seconds (shops in step would queue behind each other by design)."""
    started: list[asyncio.Task[float | None]] = []
    t0 = time.perf_counter() + phase
    for i in range(max(1, int(rate * seconds))):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        started.append(asyncio.create_task(_one(ctx, shop)))
    return list(await asyncio.gather(*started))


async def fairness(
    ctx: Context,
    keys: Path,
    *,
    quiet_shops: int = 20,
    noisy_rate: float = 50,
    seconds: float = 30,
) -> dict[str, Any]:
    pool = await ctx.pool()
    made = []
    for n in range(quiet_shops + 1):
        shop = new_shop_id()
        add_shop_key(keys, shop)
        made.append((await shops.add(pool, shop, f"bench shop {n}")).shop_id)
    noisy, quiet = made[0], made[1:]

    async def quiet_ones() -> list[float | None]:
        runs = await asyncio.gather(
            *(_steady(ctx, s, 1.0, seconds, phase=n / len(quiet)) for n, s in enumerate(quiet))
        )
        return [ms for run in runs for ms in run]

    alone = [ms for ms in await quiet_ones() if ms is not None and ms != LATE]
    t = time.perf_counter()
    noisy_all, beside_all = await asyncio.gather(
        _steady(ctx, noisy, noisy_rate, seconds), quiet_ones()
    )
    took = time.perf_counter() - t
    noisy_ms = [ms for ms in noisy_all if ms is not None and ms != LATE]
    beside = [ms for ms in beside_all if ms is not None and ms != LATE]
    return {
        "quiet_shops": quiet_shops,
        "quiet_refused": sum(ms is None for ms in beside_all),
        "quiet_late": sum(ms == LATE for ms in beside_all),
        "noisy_late": sum(ms == LATE for ms in noisy_all),
        "noisy_rate_asked": noisy_rate,
        "noisy_refused": sum(ms is None for ms in noisy_all),
        "limit_per_minute": ctx.settings.shop_openings_per_minute,
        "noisy_done_per_s": len(noisy_ms) / took,
        "seconds": seconds,
        "quiet_p95_alone_ms": _p95(alone),
        "quiet_p95_beside_noisy_ms": _p95(beside),
        "noisy_p95_ms": _p95(noisy_ms),
        "ratio": _p95(beside) / _p95(alone),
    }
