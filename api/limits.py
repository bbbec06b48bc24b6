"""Bodies have a size limit, checked before they are read: a declared `Content-Length` over
it is refused at once, and a body sent without one (chunked) is cut off as soon as it passes
the limit. Either way the answer is 413 problem+json and the rest is never read."""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem


class TooLarge(HTTPException):
    """FastAPI lets an HTTPException raised while it reads a body through as it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {_size(limit)}: send less")


def _size(limit: int) -> str:
    return f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"


class BodyLimit:
    """ASGI middleware: `limit` bytes for every body, or the limit of the longest matching
    path prefix in `limits` (e.g. a codec endpoint that takes payload batches)."""

    def __init__(self, app: ASGIApp, limit: int, limits: Mapping[str, int] | None = None) -> None:
        self.app, self.limit, self.limits = app, limit, dict(limits or {})

    def limit_for(self, path: str) -> int:
        prefixes = [p for p in self.limits if path == p or path.startswith(p.rstrip("/") + "/")]
        return self.limits[max(prefixes, key=len)] if prefixes else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(limit, scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    error = TooLarge(limit)
    # The connection closes after the answer: the unread rest of the body is not drained.
    response = problem(413, "too-large", "Body too large", error.detail, {"Connection": "close"})
    await response(scope, receive, send)
