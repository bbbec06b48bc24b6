"""Refusals as RFC 9457 problem details (`application/problem+json`): the type names the
refusal's kind, the detail is the same one line the CLI prints.

An outage is never a 500: PostgreSQL or Temporal unreachable (refused or dropped connections,
a database that accepts none, an RPC that found no server) answers 503 with `Retry-After`,
whichever line of the application layer it surfaced from."""

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from app.refusals import InvalidInput, Refusal, Unauthorized, Unavailable

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://complaints.example/problems/"  # a name, not a page to fetch
RETRY_AFTER = "5"  # seconds: an outage's answer says when to try again

log = structlog.get_logger(__name__)


class Problem(BaseModel):
    type: str = Field(examples=[TYPE_BASE + "conflict"])
    title: str = Field(examples=["Not possible now"])
    status: int = Field(examples=[409])
    detail: str = Field(
        examples=["the case is waiting for apologize, not analyze cause; do the steps in order"]
    )


def problem(
    status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = Problem(type=TYPE_BASE + kind, title=title, status=status, detail=detail)
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def refused(refusal: Refusal) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(refusal, Unauthorized) else None
    if refusal.status == 503:
        headers = {"Retry-After": RETRY_AFTER}
    return problem(refusal.status, refusal.kind, refusal.title, refusal.message, headers)


# PostgreSQL answers that mean "not now" rather than "not this": the connection classes
# (08), operator intervention (57: shutdown, terminated backend, cannot connect now),
# insufficient resources (53: too many connections), a database closed to connections (55000).
_DATABASE_DOWN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # the connection was closed under us
    asyncpg.InsufficientResourcesError,
    asyncpg.ObjectNotInPrerequisiteStateError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InvalidCatalogNameError,  # the database is gone (or not made yet)
)
_TEMPORAL_DOWN = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.ABORTED,
    }
)


def outage(err: BaseException) -> Unavailable | None:
    """The refusal an infrastructure failure stands for, or None for a bug."""
    if isinstance(err, Unavailable):
        return err
    if isinstance(err, _DATABASE_DOWN) or (
        isinstance(err, asyncpg.PostgresError) and str(err.sqlstate or "").startswith("57P")
    ):
        return Unavailable(f"cannot reach PostgreSQL: {_line(err)}; try again shortly")
    if isinstance(err, RPCError) and err.status in _TEMPORAL_DOWN:
        return Unavailable(f"cannot reach Temporal: {_line(err)}; try again shortly")
    if isinstance(err, WorkflowUpdateRPCTimeoutOrCancelledError):
        return Unavailable("no worker answered in time; try again shortly")
    if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
        return Unavailable(f"cannot reach Temporal: {_line(err)}; try again shortly")
    if isinstance(err, OSError | asyncio.TimeoutError):  # refused, reset, timed out
        return Unavailable(f"a service did not answer: {_line(err)}; try again shortly")
    return None


def _line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:200]


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "input"


def _invalid(errors: list[Any]) -> str:
    """FastAPI's validation errors as one line, in the form the CLI uses."""
    out = []
    for e in errors:
        ctx = e.get("ctx") or {}
        message = str(ctx["error"]) if "error" in ctx else str(e.get("msg", "invalid"))
        out.append(f"{_field(tuple(e.get('loc', ())))}: {message}")
    return "; ".join(out) or "invalid input"


def allowed_methods(app: Any, scope: dict[str, Any]) -> list[str]:
    """Every method some route serves at this path (a 405's `Allow`), HEAD and OPTIONS left
    out: the documented ones."""
    methods: set[str] = set()
    for route in _routes(app.routes):
        match, _ = route.matches({**scope, "method": "GET", "type": "http"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods - {"HEAD", "OPTIONS"})


def _routes(routes: list[Any]) -> Iterator[Any]:
    """The routes, those of included routers too (FastAPI keeps them behind a wrapper)."""
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            yield from _routes(router.routes)
        else:
            yield route


def install(app: FastAPI) -> None:
    async def on_refusal(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, Refusal)
        return refused(err)

    async def on_invalid(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        errors = list(err.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(
                400,
                "malformed",
                "Malformed request",
                "the body is not valid JSON: send a "
                "JSON object with Content-Type: application/json",
            )
        return refused(InvalidInput(_invalid(errors)))

    async def on_http(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, HTTPException)
        if err.status_code == 400:  # FastAPI: a body it could not read (not UTF-8, ...)
            return problem(
                400,
                "malformed",
                "Malformed request",
                "the body could not be read: send a "
                "JSON object in UTF-8 with Content-Type: application/json",
            )
        kind = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            err.status_code, "http-error"
        )
        headers = dict(err.headers) if err.headers else {}
        if err.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, dict(request.scope)))
        return problem(err.status_code, kind, str(err.detail), str(err.detail), headers or None)

    async def on_outage(request: Request, err: Exception) -> JSONResponse:
        unavailable = outage(err)
        if unavailable is None:  # a bug: still problem+json, and logged with its trace
            log.error("request failed", path=request.url.path, exc_info=err)
            return problem(
                500,
                "internal",
                "Internal error",
                "the service failed on this request; "
                "it is logged: try again, and tell the operator if it persists",
            )
        log.warning("service unavailable", path=request.url.path, reason=unavailable.message)
        return refused(unavailable)

    async def on_gone(request: Request, err: Exception) -> Response:
        # The client went away mid-request (htmx cancels a phone lookup as the next digit is
        # typed): nothing failed here, and nobody is left to answer. 499, as nginx logs it.
        log.debug("client went away", path=request.url.path)
        return Response(status_code=499)

    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(ClientDisconnect, on_gone)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)
    for kind in (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        RPCError,
        RuntimeError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    ):
        app.add_exception_handler(kind, on_outage)
    # Anything else: Starlette's last handler answers with this, then lets the server log it.
    app.add_exception_handler(Exception, on_outage)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route may answer, documented as problem+json."""
    described = {
        400: "Malformed request: the body is not JSON (or not UTF-8)",
        401: "No staff token, or one unknown or revoked",
        403: "The staff member's role may not do this",
        404: "No such case",
        409: "Not possible now: a step out of order, an ended case, a key reused",
        413: "The body is larger than 64 KiB",
        422: "Invalid input",
        429: "The shop opened more cases this minute than it may "
        "(COMPLAINTS_SHOP_OPENINGS_PER_MINUTE): nothing was opened; try again in a minute",
        503: "Temporal or PostgreSQL did not answer, or no worker has stored the case yet: "
        "nothing is wrong with the request; try again after `Retry-After` seconds",
    }
    headers: dict[int, dict[str, Any]] = {
        401: {
            "WWW-Authenticate": {
                "description": "Bearer",
                "required": True,
                "schema": {"type": "string"},
            }
        },
        503: {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
    return {
        status: {
            "description": described[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": headers[status]} if status in headers else {}),
        }
        for status in statuses
    }
