"""The API application and its server: `make api` alone, or inside `make run`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import codec, docs, health, problems
from api import rules as rulebook
from api.bodies import JSON_BODY_LIMIT
from api.limits import BodyLimit
from api.routes import router
from app.context import Context
from domain.wording import load_locales
from infra import logs
from infra.settings import Settings
from pages.customer import install as install_customer_pages
from pages.staff import install as install_pages

DESCRIPTION = """Complaint handling over HTTP: the same rules as the `complaints` CLI.

Every call needs `Authorization: Bearer <token>` (`complaints staff add NAME --role R`
prints one), except `/health` and `/ready`. The staff member the token belongs to is recorded
on every event. Refusals are RFC 9457 `application/problem+json`; `detail` is the line the CLI
would print.

Request bodies are JSON objects of at most 64 KiB (larger: 413, before the body is read).
When PostgreSQL or Temporal does not answer, every call answers 503 with `Retry-After`:
nothing is wrong with the request, send it again later (an `Idempotency-Key` makes that safe
for `POST /cases`).

`/codec/decode` and `/codec/encode` serve Temporal's codec protocol (not listed here) for
`temporal ... --codec-endpoint URL/codec --codec-auth "Bearer <token>"` and the Web UI."""


def _settings(ctx: Context | None, settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    return ctx.settings if ctx is not None else Settings()


# Bodies larger than this, per path prefix, are refused with 413 (JSON_BODY_LIMIT elsewhere).
# The codec's payload batches (from the Web UI or the CLI) are bounded by the codec itself,
# after it knows who asks: a stranger gets 401, not a hint about sizes.
# A customer's photo (5 MB, domain.photos) is posted as a form to these two paths alone. The
# limit is far above the photo's so a too-large photo reaches the page, which says so in the
# customer's words; past it the body is cut off unread.
PHOTO_BODY_LIMIT = 20 * 1024 * 1024
BODY_LIMITS = {
    "/codec": 2 * codec.MAX_BODY,
    "/c/new": PHOTO_BODY_LIMIT,
    "/c/photo": PHOTO_BODY_LIMIT,
}


def create_app(ctx: Context | None = None, settings: Settings | None = None) -> FastAPI:
    """The app over `ctx` (a test's), or over a context of its own opened at startup."""
    shop = _settings(ctx, settings)
    load_locales()  # the pages write dates as the locale does: read now, not on a first page

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ctx is not None:
            yield
            return
        own = Context(shop, pool_size=shop.database_pool_size)
        app.state.ctx = own
        try:
            yield
        finally:
            await own.close()

    app = FastAPI(
        title="Complaints",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by api.docs
        redoc_url=None,
    )
    if ctx is not None:
        app.state.ctx = ctx
    app.include_router(router)
    app.include_router(codec.router)
    app.include_router(rulebook.router)
    install_pages(app)  # the staff pages (/, /staff/...) and their static files
    install_customer_pages(app)  # the customer's pages (/c/<token>) and the form (/c/new)
    app.add_middleware(codec.CodecCors, origins=codec.ui_origins(shop))
    app.include_router(health.router)
    docs.install(app)
    problems.install(app)
    app.add_middleware(BodyLimit, limit=JSON_BODY_LIMIT, limits=BODY_LIMITS)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = problems.Problem.model_json_schema()
            app.openapi_schema = _times_of_day(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# A time of day as the answers write it ("10:00:00"): JSON Schema's `format: time` wants an
# offset too ("10:00:00+09:00"), which a shop's opening hour does not have.
TIME_OF_DAY = r"^([01][0-9]|2[0-4]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _times_of_day(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("format") == "time":
            node = {k: v for k, v in node.items() if k != "format"} | {"pattern": TIME_OF_DAY}
        return {k: _times_of_day(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_times_of_day(v) for v in node]
    return node


class Server(uvicorn.Server):
    """uvicorn inside a process that handles its own signals (`make run`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server(settings: Settings, app: FastAPI | None = None) -> Server:
    config = uvicorn.Config(
        app or create_app(settings=settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # our structlog setup handles uvicorn's loggers too
        access_log=False,
        lifespan="on",
    )
    return Server(config)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set or the task is cancelled."""
    api = server(settings)
    task = asyncio.create_task(api.serve())
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        api.should_exit = True
        await task


def main() -> None:
    settings = Settings.load()
    logs.configure(settings.log_format)
    uvicorn.run(
        create_app(settings=settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
    )


if __name__ == "__main__":
    main()
