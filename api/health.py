"""Liveness and readiness, without a token: `/health` answers while the process serves;
`/ready` only when PostgreSQL and Temporal answer too (else 503 problem+json with
`Retry-After`, so a load balancer sends no traffic to an instance that would fail it)."""

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth import Ctx
from api.problems import outage, refused, responses
from app.refusals import Refusal, Unavailable
from store import connections

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT = 3.0  # seconds per dependency: a probe that hangs is a probe that failed


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    postgresql: Literal["ok"] = "ok"
    temporal: Literal["ok"] = "ok"


@router.get(
    "/health",
    response_model=Health,
    operation_id="health",
    summary="Liveness: the API process answers (no dependency is checked)",
)
async def health() -> Health:
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses=responses(503),
    operation_id="ready",
    summary="Readiness: PostgreSQL and Temporal answer",
)
async def ready(ctx: Ctx) -> JSONResponse:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            pool = await ctx.pool()
            await connections.ping(pool)
    except Exception as err:
        return refused(_down("PostgreSQL", err))
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            client = await ctx.client()
            await client.service_client.check_health()
    except Exception as err:
        return refused(_down("Temporal", err))
    return JSONResponse(Readiness().model_dump())


def _down(name: str, err: Exception) -> Unavailable:
    if isinstance(err, Refusal):
        return Unavailable(err.message)
    if isinstance(err, TimeoutError):
        return Unavailable(f"{name} did not answer within {CHECK_TIMEOUT:.0f} s")
    known = outage(err)
    return known if known is not None else Unavailable(f"{name}: {err}")
