"""The invitation link: the page that opens from the email, and accepting it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.auth.handlers import start_session
from portal.context import request_origin
from portal.forms import typed_password
from portal.invitations.acceptance import LinkView, accept, view_link
from portal.invitations.service import InvitationError
from portal.invitations.states import STATE_MESSAGES, LinkState
from portal.pages import page
from portal.permissions.guards import principal_of, public


@get("/{token:str}", opt=public())
async def invitation_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    link = await view_link(token)
    if link is None:
        return _unknown_link(request)
    if link.state is not LinkState.USABLE:
        return _state_page(request, link, link.state)
    return page(request, "invitations/accept.html", link=link, errors={})


@post("/{token:str}", opt=public())
async def invitation_accept(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    link = await view_link(token)
    if link is None:
        return _unknown_link(request)
    password, mismatch = typed_password(await request.form())
    if mismatch:
        return page(request, "invitations/accept.html", status_code=422, link=link, errors=mismatch)
    try:
        outcome = await accept(link, password, request_origin(request))
    except InvitationError as error:
        return page(
            request, "invitations/accept.html", status_code=422, link=link, errors=error.errors
        )
    if isinstance(outcome, LinkState):
        principal = principal_of(request)
        if outcome is LinkState.ACCEPTED and principal and principal.user_id == link.user_id:
            # A double click: the first submit already signed this browser in.
            return Redirect("/", status_code=303)
        return _state_page(request, link, outcome)
    cookie = await start_session(request, outcome.user_id, outcome.session_epoch)
    return Redirect("/", status_code=303, cookies=[cookie])


def _state_page(request: Request[Any, Any, Any], link: LinkView, state: LinkState) -> Template:
    title, text = STATE_MESSAGES[state]
    status = 409 if state is LinkState.ACCEPTED else 410
    return page(
        request,
        "invitations/state.html",
        status_code=status,
        title=title,
        message=text.format(inviter=link.inviter, organisation=link.organisation),
        state=state.value,
    )


def _unknown_link(request: Request[Any, Any, Any]) -> Template:
    return page(
        request,
        "invitations/state.html",
        status_code=404,
        title="This invitation link is not valid",
        message="Check that you copied the whole address from the email, or ask the "
        "administrator who invited you to send a new invitation.",
        state="unknown",
    )


PAGES = Router(
    "/invitations",
    route_handlers=[invitation_page, invitation_accept],
    include_in_schema=False,
)
ROUTERS = [PAGES]
