"""Deciding an order, from its page or in place in the queue (htmx): approve, or reject
with a reason."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.approvals.decisions import DecisionRefused, decide
from portal.approvals.queue import queue_of
from portal.context import base_url
from portal.forms import parse_count
from portal.orders.handlers import render_order_page
from portal.permissions.guards import signed_in
from portal.permissions.principal import Principal


@post("/{order_id:uuid}/approve", opt=signed_in())
async def approve_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> Response[Any]:
    return await _decide(request, principal, actor, order_id, approve=True)


@post("/{order_id:uuid}/reject", opt=signed_in())
async def reject_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    order_id: FromPath[UUID],
) -> Response[Any]:
    return await _decide(request, principal, actor, order_id, approve=False)


async def _decide(
    request: Request[Any, Any, Any],
    principal: Principal,
    actor: Actor,
    order_id: UUID,
    approve: bool,
) -> Response[Any]:
    form = await request.form()
    reason = str(form.get("reason") or "")
    in_queue = request.headers.get("hx-request") == "true"
    try:
        level = parse_count(form.get("level"))
        if level is None:
            # Every decision form names the level it shows; without one, a replay could
            # decide a level nobody saw.
            raise DecisionRefused(409, "Open the order again to see which level waits.")
        outcome = await decide(
            actor,
            order_id,
            approve,
            reason,
            parse_count(form.get("revision")),
            level,
            base_url=base_url(request),
        )
    except DecisionRefused as error:
        if error.status == 404:
            raise
        if in_queue:
            return await _queue_row(request, principal, order_id, error.message, reason)
        errors = {error.field: error.message} if error.field else {}
        return await render_order_page(
            request, principal, order_id, error.message, errors, error.status
        )
    if in_queue:
        return await _queue_row(request, principal, order_id, None, "", outcome.said())
    return Redirect(
        f"/orders/{order_id}?done={'approve' if approve else 'reject'}", status_code=303
    )


async def _queue_row(
    request: Request[Any, Any, Any],
    principal: Principal,
    order_id: UUID,
    problem: str | None,
    reason: str,
    done: str = "",
) -> Template:
    """The queue row after a decision: gone when decided (with the new count), or the row
    again with the message. 422 keeps htmx swapping the row in place."""
    queue = await queue_of(principal)
    item = next((item for item in queue.items if item.row.id == order_id), None)
    return Template(
        "approvals/_decided.html",
        context={
            "item": item,
            "order_id": order_id,
            "problem": problem,
            "reason": reason,
            "total": queue.total,
            "done": done,
        },
        status_code=422 if problem and item is not None else 200,
    )


PAGES = Router(
    "/orders",
    route_handlers=[approve_submit, reject_submit],
    include_in_schema=False,
)
ROUTERS = [PAGES]
