"""Who is calling: the staff member whose bearer token this is (never a body field)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.context import Context
from app.identity import Actor, actor_for_token

bearer = HTTPBearer(auto_error=False, description="a token from `complaints staff add`")


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    token = credentials.credentials if credentials else None
    return await actor_for_token(context(request), token)


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Actor, Depends(actor)]
