"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from portal.activity.log import log_action
from portal.auth.middleware import SESSION_KEY
from portal.auth.sessions import SessionRecord, SessionStore
from portal.auth.signin import GENERIC_FAILURE, authenticate
from portal.context import request_origin
from portal.db import write_transaction
from portal.pages import page
from portal.permissions.guards import principal_of, public, signed_in
from portal.permissions.principal import Principal


def safe_next(target: str | None) -> str:
    """Only paths on this site; anything else (//evil.example, https://...) goes home.

    Control characters are refused too: browsers drop tabs and newlines from URLs, so a
    slash, a tab and "/evil.example" would become "//evil.example"."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)
    ):
        return "/"
    return target


def _sessions(request: Request[Any, Any, Any]) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _session_cookie(request: Request[Any, Any, Any], value: str, *, expire: bool = False) -> Cookie:
    return Cookie(
        key=request.app.state.session_cookie,
        value=value,
        path="/",
        httponly=True,
        secure=request.app.state.settings.secure_cookies,
        samesite="lax",
        max_age=0 if expire else None,
    )


@get("/sign-in", opt=public())
async def sign_in_page(
    request: Request[Any, Any, Any],
    next: FromQuery[str | None] = None,
) -> Response[Any]:
    if principal_of(request) is not None:
        return Redirect(safe_next(next), status_code=303)
    signed_out = request.query_params.get("signed_out") == "1"
    return page(
        request,
        "auth/sign_in.html",
        next=safe_next(next),
        email="",
        error=None,
        notice="You are signed out." if signed_out else None,
    )


@post("/sign-in", opt=public())
async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    if not email or not password:
        return _sign_in_failed(request, email, target, "Enter your email and your password.")
    signed = await authenticate(email, password, request_origin(request))
    if signed is None:
        return _sign_in_failed(request, email, target, GENERIC_FAILURE)
    cookie = await start_session(request, signed.user_id, signed.session_epoch)
    return Redirect(target, status_code=303, cookies=[cookie])


async def start_session(request: Request[Any, Any, Any], user_id: UUID, epoch: int) -> Cookie:
    """A new session and its cookie. The id is new at every sign-in, and the session the
    browser had before is ended: a token planted before sign-in is worth nothing."""
    sessions = _sessions(request)
    token = request.cookies.get(request.app.state.session_cookie)
    if token:
        await sessions.destroy_token(token)
    return _session_cookie(request, await sessions.create(user_id, epoch))


def current_session(request: Request[Any, Any, Any]) -> SessionRecord | None:
    record: SessionRecord | None = request.scope["state"].get(SESSION_KEY)
    return record


async def own_session_after_change(
    request: Request[Any, Any, Any], principal: Principal, user_id: UUID, epoch: int | None
) -> list[Cookie]:
    """A change of permission level ends the user's sessions (`epoch` is their new epoch).
    When the user changed their own, this browser continues on a new session, and only
    their other sessions end."""
    if epoch is None or user_id != principal.user_id:
        return []
    return [await start_session(request, user_id, epoch)]


def _sign_in_failed(
    request: Request[Any, Any, Any], email: str, target: str, message: str
) -> Template:
    return page(
        request,
        "auth/sign_in.html",
        status_code=401,
        next=target,
        email=email[:320],
        error=message,
    )


@post("/sign-out", opt=signed_in())
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    principal = principal_of(request)
    record = current_session(request)
    async with write_transaction():
        if record is not None:
            await _sessions(request).destroy(record.id)
        if principal is not None:
            await log_action(
                "auth.signed_out",
                organisation_id=principal.organisation_id,
                actor_id=principal.user_id,
                subject_id=principal.user_id,
                origin=request_origin(request),
            )
    return Redirect(
        "/sign-in?signed_out=1",
        status_code=303,
        cookies=[_session_cookie(request, "", expire=True)],
    )


PAGES = Router(
    "/",
    route_handlers=[sign_in_page, sign_in, sign_out],
    include_in_schema=False,
)
ROUTERS = [PAGES]
