"""Refusals as RFC 9457 problem details (`application/problem+json`): the type names the
refusal's kind, the detail is the same one line the CLI prints."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.refusals import InvalidInput, Refusal, Unauthorized

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://complaints.example/problems/"  # a name, not a page to fetch


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
        headers = {"Retry-After": "5"}
    return problem(refusal.status, refusal.kind, refusal.title, refusal.message, headers)


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


def install(app: FastAPI) -> None:
    async def on_refusal(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, Refusal)
        return refused(err)

    async def on_invalid(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        return refused(InvalidInput(_invalid(list(err.errors()))))

    async def on_http(request: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, HTTPException)
        kind = {404: "not-found", 405: "method-not-allowed"}.get(err.status_code, "http-error")
        headers = dict(err.headers) if err.headers else None
        return problem(err.status_code, kind, str(err.detail), str(err.detail), headers)

    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route may answer, documented as problem+json."""
    described = {
        401: "No staff token, or one unknown or revoked",
        403: "The staff member's role may not do this",
        404: "No such case",
        409: "Not possible now: a step out of order, an ended case, a key reused",
        422: "Invalid input",
        503: "Temporal, PostgreSQL or a worker did not answer",
    }
    return {
        status: {
            "description": described[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
