"""Approvals pages: the approver's queue with bulk approve, and Settings → Approval Policies
(the policies, a preview for a hypothetical order, and the reminder and escalation times)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.approvals.bulk import approve_each
from portal.approvals.directory import distinct_levels_of
from portal.approvals.organisation import (
    check_timing,
    save_distinct_levels,
    save_timing,
    timing_of,
)
from portal.approvals.policies import (
    TIER_ROLES,
    PolicyError,
    check_policy,
    get_policy,
    json_list,
    list_policies,
    preview,
    save_policy,
)
from portal.approvals.queue import parse_filters, queue_of
from portal.context import base_url, leave_notice, take_notice
from portal.costcentres.queries import list_centres, offered_centres
from portal.errors import NotFound
from portal.forms import parse_chosen_levels
from portal.orders.validation import parse_money
from portal.organisations.queries import currency_of
from portal.pages import page
from portal.permissions.guards import signed_in
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.permissions.queries import role_names
from portal.permissions.requirements import POLICIES_FULL, POLICIES_READ
from portal.users.queries import people

MAX_BULK = 200


@get("/", opt=signed_in())
async def queue_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    filters, errors = parse_filters(request.query_params)
    queue = await queue_of(principal, filters)
    # A bulk approval's results, shown once after its redirect.
    results = await take_notice(request) if request.query_params.get("done") == "bulk" else None
    return page(
        request,
        "approvals/queue.html",
        status_code=422 if errors else 200,
        queue=queue,
        errors=errors,
        values={key: value for key, value in request.query_params.items() if key != "done"},
        requesters=await people(principal.organisation_id, active_only=False),
        results=results,
    )


@post("/approve", opt=signed_in())
async def bulk_approve_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    """Approve each chosen order on its own; one refusal does not stop the others. Then back
    to the queue (post, redirect, get), which shows each order's result once."""
    form = await request.form()
    chosen, bad = parse_chosen_levels(form.getall("orders", []))
    problem = None
    if bad or not chosen:
        problem = "Choose one or more orders from the queue."
    elif len(chosen) > MAX_BULK:
        problem = f"Approve at most {MAX_BULK} orders at once."
    if problem:
        return page(
            request,
            "approvals/queue.html",
            status_code=422,
            queue=await queue_of(principal),
            errors={"orders": problem},
            values={},
            requesters=await people(principal.organisation_id, active_only=False),
            results=None,
        )
    results = [
        (
            str(result.order_id),
            result.outcome.said() if result.outcome else (result.refusal or ""),
            result.refusal is None,
        )
        for result in await approve_each(actor, chosen, base_url(request))
    ]
    await leave_notice(request, results)
    return Redirect("/approvals?done=bulk", status_code=303)


# --- Settings → Approval Policies ------------------------------------------------------------


async def _choices(organisation_id: UUID) -> dict[str, Any]:
    users = await people(organisation_id)
    roles = await role_names(organisation_id)
    role_choices = [
        (role, f"Everyone with the {role.removeprefix('tier:')} permission level")
        for role in TIER_ROLES
    ] + [(str(role["id"]), role["name"]) for role in roles]
    return {"users": users, "roles": role_choices}


@get("/", opt=POLICIES_READ)
async def policies_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await _policies_page(request, principal)


async def _policies_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    timing_errors: dict[str, str] | None = None,
    timing_values: dict[str, Any] | None = None,
) -> Template:
    policies = await list_policies(principal.organisation_id)
    for policy in policies:
        for key in ("order_kinds", "cost_centres", "approver_users", "approver_roles"):
            policy[key] = json_list(policy[key])
    names = {
        str(user["id"]): user["full_name"]
        for user in await people(principal.organisation_id, active_only=False)
    }
    choices = await _choices(principal.organisation_id)
    return page(
        request,
        "approvals/policies.html",
        status_code=422 if timing_errors else 200,
        policies=policies,
        currency=await currency_of(principal.organisation_id),
        names=names | {role: label for role, label in choices["roles"]},
        timing=timing_values or await timing_of(principal.organisation_id),
        distinct_levels=await distinct_levels_of(principal.organisation_id),
        timing_errors=timing_errors or {},
        cost_centres=offered_centres(await list_centres(principal.organisation_id)),
        can_change=principal.may(Area.APPROVAL_POLICIES, Level.FULL),
        notice="Saved." if request.query_params.get("done") else None,
    )


def _policy_values(form: FormMultiDict) -> dict[str, Any]:
    return {
        "name": str(form.get("name") or ""),
        "active": form.get("active") == "on",
        "threshold": str(form.get("threshold") or ""),
        "order_kinds": list(form.getall("order_kinds", [])),
        "cost_centres": list(form.getall("cost_centres", [])),
        "approver_users": list(form.getall("approver_users", [])),
        "approver_roles": list(form.getall("approver_roles", [])),
        "required_approvals": str(form.get("required_approvals") or ""),
        "level": str(form.get("level") or ""),
    }


async def _policy_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    values: dict[str, Any],
    policy_id: UUID | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    # Archived cost centres show only where the stored policy already names them.
    stored = await get_policy(principal.organisation_id, policy_id) if policy_id else None
    kept = json_list(stored["cost_centres"]) if stored else []
    return page(
        request,
        "approvals/policy.html",
        status_code=422 if errors else 200,
        values=values,
        errors=errors or {},
        policy_id=policy_id,
        can_change=principal.may(Area.APPROVAL_POLICIES, Level.FULL),
        cost_centres=offered_centres(await list_centres(principal.organisation_id), kept),
        **await _choices(principal.organisation_id),
    )


@get("/new", opt=POLICIES_FULL)
async def new_policy_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    values = {
        "name": "",
        "active": True,
        "threshold": "",
        "order_kinds": [],
        "cost_centres": [],
        "approver_users": [],
        "approver_roles": [],
        "required_approvals": "1",
        "level": "1",
    }
    return await _policy_form(request, principal, values)


@post("/", opt=POLICIES_FULL)
async def create_policy_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    return await _save(request, principal, actor, None)


@get("/{policy_id:uuid}", opt=POLICIES_READ)
async def policy_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    policy_id: FromPath[UUID],
) -> Template:
    policy = await get_policy(principal.organisation_id, policy_id)
    if policy is None:
        raise NotFound("approval policy")
    values = {
        "name": policy["name"],
        "active": policy["active"],
        "threshold": f"{Decimal(policy['threshold']):.2f}",
        "order_kinds": json_list(policy["order_kinds"]),
        "cost_centres": json_list(policy["cost_centres"]),
        "approver_users": json_list(policy["approver_users"]),
        "approver_roles": json_list(policy["approver_roles"]),
        "required_approvals": str(policy["required_approvals"]),
        "level": str(policy["level"]),
    }
    return await _policy_form(request, principal, values, policy_id)


@post("/{policy_id:uuid}", opt=POLICIES_FULL)
async def save_policy_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    policy_id: FromPath[UUID],
) -> Response[Any]:
    if await get_policy(principal.organisation_id, policy_id) is None:
        raise NotFound("approval policy")
    return await _save(request, principal, actor, policy_id)


async def _save(
    request: Request[Any, Any, Any], principal: Principal, actor: Actor, policy_id: UUID | None
) -> Response[Any]:
    values = _policy_values(await request.form())
    policy, errors = check_policy(values)
    try:
        if policy is None:
            raise PolicyError(422, "Some fields need another look.", errors)
        await save_policy(actor, policy, policy_id)
    except PolicyError as error:
        if error.status == 404:
            raise
        return await _policy_form(request, principal, values, policy_id, error.errors)
    return Redirect("/settings/approval-policies?done=saved", status_code=303)


@get("/preview", opt=POLICIES_READ)
async def preview_fragment(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    """Which policies would apply to a hypothetical order: an htmx fragment."""
    params = request.query_params
    problem = None
    steps = None
    requester = None
    try:
        cost = parse_money(params.get("cost") or "")
    except ValueError as error:
        problem = str(error)
    raw_requester = params.get("requester") or ""
    if raw_requester:
        try:
            requester = UUID(raw_requester)
        except ValueError:
            problem = "Choose a requester from the list."
    if problem is None:
        steps = await preview(
            principal.organisation_id,
            params.get("kind") or "new",
            cost,
            (params.get("cost_centre") or "")[:60],
            requester,
        )
    return Template(
        "approvals/_preview.html",
        context={"steps": steps, "problem": problem},
        status_code=422 if problem else 200,
    )


@post("/timing", opt=POLICIES_FULL)
async def timing_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in ("reminder_hours", "escalation_hours")}
    timing, errors = check_timing(values)
    if timing is None:
        return await _policies_page(request, principal, errors, values)
    await save_timing(actor, *timing)
    return Redirect("/settings/approval-policies?done=timing", status_code=303)


@post("/levels", opt=POLICIES_FULL)
async def levels_submit(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Response[Any]:
    form = await request.form()
    await save_distinct_levels(actor, form.get("distinct_levels") == "on", base_url(request))
    return Redirect("/settings/approval-policies?done=levels", status_code=303)


QUEUE_PAGES = Router(
    "/approvals",
    route_handlers=[queue_page, bulk_approve_submit],
    include_in_schema=False,
)
POLICY_PAGES = Router(
    "/settings/approval-policies",
    route_handlers=[
        policies_page,
        new_policy_page,
        create_policy_submit,
        preview_fragment,
        policy_page,
        save_policy_submit,
        timing_submit,
        levels_submit,
    ],
    include_in_schema=False,
)
ROUTERS = [QUEUE_PAGES, POLICY_PAGES]
