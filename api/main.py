"""The API application and its server: `make api` alone, or inside `make run`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import codec, problems
from api.routes import router
from app.context import Context
from infra import logs
from infra.settings import Settings
from pages.routes import install as install_pages

DESCRIPTION = """Complaint handling over HTTP: the same rules as the `complaints` CLI.

Every call needs `Authorization: Bearer <token>` (`complaints staff add NAME --role R`
prints one). The staff member the token belongs to is recorded on every event. Refusals
are RFC 9457 `application/problem+json`; `detail` is the line the CLI would print.

`/codec/decode` and `/codec/encode` serve Temporal's codec protocol (not listed here) for
`temporal ... --codec-endpoint URL/codec --codec-auth "Bearer <token>"` and the Web UI."""


def _settings(ctx: Context | None, settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    return ctx.settings if ctx is not None else Settings()


def create_app(ctx: Context | None = None, settings: Settings | None = None) -> FastAPI:
    """The app over `ctx` (a test's), or over a context of its own opened at startup."""
    shop = _settings(ctx, settings)

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

    app = FastAPI(title="Complaints", version="1", description=DESCRIPTION, lifespan=lifespan)
    if ctx is not None:
        app.state.ctx = ctx
    app.include_router(router)
    app.include_router(codec.router)
    install_pages(app)  # the staff pages (/, /staff/...) and their static files
    app.add_middleware(codec.CodecCors, origins=codec.ui_origins(shop))
    problems.install(app)

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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


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
