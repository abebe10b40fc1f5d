"""Dependencies declared once as Annotated aliases; routers use the aliases only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings
from app.domain.errors import AuthError, ForbiddenError
from app.runtime import Runtime
from app.storage.database import Session

_bearer = HTTPBearer(auto_error=False, description="An API key created with `news-ingest keys create`")


# async, though they do not await: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hop on every request for a dictionary lookup.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(runtime: RuntimeDep, request: Request) -> AsyncIterator[Session]:
    # The request owns the transaction: it commits once, before the response is sent
    # (scope="function"), so a client never sees success for work that did not commit.
    # Reads use reader sessions, which on SQLite never wait behind ingestion's writes.
    opener = runtime.db.reading if request.method in ("GET", "HEAD") else runtime.db.transaction
    async with opener() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _scope_of(runtime: Runtime, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None:
        return None
    scope = await runtime.keys.scope_of(credentials.credentials)
    if scope is None:
        raise AuthError("auth: the API key is unknown or revoked")
    return scope


async def require_read(runtime: RuntimeDep, credentials: Credentials) -> None:
    scope = await _scope_of(runtime, credentials)
    if scope is None and not runtime.settings.open_read:
        raise AuthError("auth: send 'Authorization: Bearer <key>'; create a key with `news-ingest keys create`")


async def require_admin(runtime: RuntimeDep, credentials: Credentials) -> None:
    scope = await _scope_of(runtime, credentials)
    if scope is None:
        raise AuthError("auth: send 'Authorization: Bearer <key>' with an admin key")
    if scope != "admin":
        raise ForbiddenError("auth: this endpoint changes data and needs a key with scope 'admin'")


ReadAccess = Depends(require_read)
AdminAccess = Depends(require_admin)
