"""Fairness between shops: does one busy shop slow the others down?

Twenty quiet shops each open a case a second (a case opened, then its apology: what a
member of staff waits for); their p95 is measured alone, then again while one noisy shop
opens cases as fast as `noisy_rate` a second on the same worker and task queue. The figure
is the quiet shops' p95 beside the noisy one over their p95 alone; the noisy shop's own
achieved rate and p95 say how far the machine went.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from domain.commands import Apologize, OpenCase
from infra.case_ids import new_case_id
from infra.codec import add_shop_key
from infra.shop_ids import new_shop_id, workflow_id
from store import shops
from workflows.complaint import ComplaintWorkflow as WF


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


async def _one(client: Client, shop: str, opening: OpenCase, queue: str) -> float:
    """Milliseconds from asking to open a case to its apology stored."""
    case_id = new_case_id()
    t = time.perf_counter()
    handle = await client.start_workflow(
        WF.run,
        opening.model_copy(update={"case_id": case_id}),
        id=workflow_id(shop, case_id),
        task_queue=queue,
    )
    await handle.execute_update(WF.apologize, Apologize(what="Sorry for the wait"))
    return (time.perf_counter() - t) * 1000


async def _steady(
    client: Client,
    shop: str,
    opening: OpenCase,
    queue: str,
    rate: float,
    seconds: float,
    phase: float = 0.0,
) -> list[float]:
    """Open-loop: a case every 1/rate seconds whether the last has finished or not, the
    first after `phase` seconds (shops in step would queue behind each other by design)."""
    started: list[asyncio.Task[float]] = []
    t0 = time.perf_counter() + phase
    for i in range(max(1, int(rate * seconds))):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        started.append(asyncio.create_task(_one(client, shop, opening, queue)))
    return list(await asyncio.gather(*started))


async def fairness(
    client: Client,
    pool: asyncpg.Pool,
    keys: Path,
    opening: OpenCase,
    *,
    quiet_shops: int = 20,
    noisy_rate: float = 50,
    seconds: float = 30,
    queue: str = "complaints",
) -> dict[str, Any]:
    made = []
    for n in range(quiet_shops + 1):
        shop = new_shop_id()
        add_shop_key(keys, shop)
        made.append((await shops.add(pool, shop, f"bench shop {n}")).shop_id)
    noisy, quiet = made[0], made[1:]

    async def quiet_ones() -> list[float]:
        runs = await asyncio.gather(
            *(
                _steady(client, s, opening, queue, 1.0, seconds, phase=n / len(quiet))
                for n, s in enumerate(quiet)
            )
        )
        return [ms for run in runs for ms in run]

    alone = await quiet_ones()
    t = time.perf_counter()
    noisy_ms, beside = await asyncio.gather(
        _steady(client, noisy, opening, queue, noisy_rate, seconds), quiet_ones()
    )
    took = time.perf_counter() - t
    return {
        "quiet_shops": quiet_shops,
        "noisy_rate_asked": noisy_rate,
        "noisy_done_per_s": len(noisy_ms) / took,
        "seconds": seconds,
        "quiet_p95_alone_ms": _p95(alone),
        "quiet_p95_beside_noisy_ms": _p95(beside),
        "noisy_p95_ms": _p95(noisy_ms),
        "ratio": _p95(beside) / _p95(alone),
    }
