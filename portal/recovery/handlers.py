"""Account access assistance: access emails, forgot password, reset pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.auth.handlers import start_session
from portal.context import base_url, request_origin
from portal.forms import typed_password
from portal.pages import page
from portal.permissions.guards import principal_of, public
from portal.permissions.principal import Principal
from portal.permissions.requirements import USERS_FULL
from portal.recovery.service import (
    AccessEmailRefused,
    PasswordRefused,
    ResetLink,
    forgot_password_problem,
    request_reset,
    reset_password,
    send_access_email,
    view_reset,
)
from portal.recovery.states import STATE_PAGES, ResetState
from portal.users.emails import MAX_EMAIL_LENGTH
from portal.users.handlers import render_user_page


@post("/{user_id:uuid}/access-email", opt=USERS_FULL)
async def access_email_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    try:
        await send_access_email(actor, user_id, base_url(request))
    except AccessEmailRefused as refused:
        return await render_user_page(request, principal, user_id, problem=refused.message)
    return Redirect(f"/settings/users/{user_id}?done=access_email_sent", status_code=303)


@get("/forgot-password", opt=public())
async def forgot_password_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "recovery/forgot.html", email="", error=None, sent=False)


@post("/forgot-password", opt=public())
async def forgot_password_submit(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    email = str(form.get("email") or "")
    problem = forgot_password_problem(email)
    if problem is not None:
        return page(
            request,
            "recovery/forgot.html",
            status_code=422,
            email=email[:MAX_EMAIL_LENGTH],
            error=problem,
            sent=False,
        )
    await request_reset(email, request_origin(request), base_url(request))
    # One answer whatever the address: the page never tells whether an account exists.
    return page(request, "recovery/forgot.html", email="", error=None, sent=True)


@get("/reset-password/{token:str}", opt=public())
async def reset_password_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    link = await view_reset(token)
    if link is None:
        return _unknown_link(request)
    if link.state is not ResetState.USABLE:
        return _state_page(request, link, link.state)
    return page(request, "recovery/reset.html", link=link, errors={})


@post("/reset-password/{token:str}", opt=public())
async def reset_password_submit(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[Any]:
    link = await view_reset(token)
    if link is None:
        return _unknown_link(request)
    password, mismatch = typed_password(await request.form())
    if mismatch and link.state is ResetState.USABLE:
        return page(request, "recovery/reset.html", status_code=422, link=link, errors=mismatch)
    try:
        outcome = await reset_password(link, password, request_origin(request))
    except PasswordRefused as refused:
        return page(
            request, "recovery/reset.html", status_code=422, link=link, errors=refused.errors
        )
    if isinstance(outcome, ResetState):
        principal = principal_of(request)
        if outcome is ResetState.USED and principal and principal.user_id == link.user_id:
            # A double click: the first submit already signed this browser in.
            return Redirect("/", status_code=303)
        return _state_page(request, link, outcome)
    cookie = await start_session(request, outcome.user_id, outcome.session_epoch)
    return Redirect("/", status_code=303, cookies=[cookie])


def _state_page(request: Request[Any, Any, Any], link: ResetLink, state: ResetState) -> Template:
    title, text, status = STATE_PAGES[state]
    return page(
        request,
        "recovery/state.html",
        status_code=status,
        title=title,
        message=text.format(organisation=link.organisation),
        state=state.value,
    )


def _unknown_link(request: Request[Any, Any, Any]) -> Template:
    return page(
        request,
        "recovery/state.html",
        status_code=404,
        title="This link is not valid",
        message="Check that you copied the whole address from the email, or ask for a new "
        "link with “Forgot password?” on the sign-in page.",
        state="unknown",
    )


PAGES = Router(
    "/",
    route_handlers=[
        forgot_password_page,
        forgot_password_submit,
        reset_password_page,
        reset_password_submit,
    ],
    include_in_schema=False,
)
ACCESS_EMAIL_PAGES = Router(
    "/settings/users",
    route_handlers=[access_email_submit],
    include_in_schema=False,
)
ROUTERS = [PAGES, ACCESS_EMAIL_PAGES]
