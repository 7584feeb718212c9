"""Settings → Users → Edit: a user's names, locale, tier, roles and per-area overrides."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.auth.handlers import own_session_after_change
from portal.context import base_url
from portal.forms import parse_uuids
from portal.pages import page
from portal.permissions.model import Area, Tier
from portal.permissions.principal import Principal
from portal.permissions.queries import role_names
from portal.permissions.requirements import USERS_FULL
from portal.users.overrides import override_choices, parse_override
from portal.users.profile import LANGUAGES, TIME_ZONES
from portal.users.queries import editable, person
from portal.users.service import ChangeError, LifecycleError, UserChanges, change_user

EDIT_FIELDS = ("full_name", "display_name", "locale", "time_zone", "tier", "reason", "detail")


@get("/{user_id:uuid}/edit", opt=USERS_FULL)
async def edit_user_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], user_id: FromPath[UUID]
) -> Template:
    start = await editable(principal.organisation_id, user_id)
    values = {k: (start.fields.get(k) or "") for k in EDIT_FIELDS}
    return await _edit_form(request, principal, user_id, values, start.role_ids, start.overrides)


@post("/{user_id:uuid}/edit", opt=USERS_FULL)
async def edit_user_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
    user_id: FromPath[UUID],
) -> Response[Any]:
    await person(principal.organisation_id, user_id)  # another tenant's id: 404
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in EDIT_FIELDS}
    role_ids, bad_role = parse_uuids(form.getall("roles", []))
    raw_overrides = {area.value: str(form.get(f"override_{area.value}") or "") for area in Area}
    try:
        if bad_role:
            raise ChangeError({"roles": "Choose roles from the list."})
        changes = UserChanges(
            full_name=values["full_name"],
            display_name=values["display_name"],
            locale=values["locale"],
            time_zone=values["time_zone"],
            tier=values["tier"],
            role_ids=role_ids,
            overrides={area: parse_override(area, raw_overrides[area.value]) for area in Area},
        )
        epoch = await change_user(
            actor, user_id, changes, values["reason"], values["detail"], base_url=base_url(request)
        )
    except ChangeError as error:
        return await _edit_form(
            request, principal, user_id, values, set(role_ids), raw_overrides, error.errors
        )
    except LifecycleError as error:
        return await _edit_form(
            request,
            principal,
            user_id,
            values,
            set(role_ids),
            raw_overrides,
            {"tier": error.message},
        )
    cookies = await own_session_after_change(request, principal, user_id, epoch)
    return Redirect(f"/settings/users/{user_id}?done=changed", status_code=303, cookies=cookies)


async def _edit_form(
    request: Request[Any, Any, Any],
    principal: Principal,
    user_id: UUID,
    values: dict[str, str],
    chosen_roles: set[UUID],
    overrides: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Template:
    roles = await role_names(principal.organisation_id, assignable_only=True)
    return page(
        request,
        "users/edit.html",
        status_code=422 if errors else 200,
        user_id=user_id,
        values=values,
        errors=errors or {},
        roles=roles,
        chosen_roles=chosen_roles,
        overrides=overrides,
        areas=[(area, override_choices(area)) for area in Area],
        tiers=[tier.value for tier in Tier],
        languages=LANGUAGES,
        time_zones=TIME_ZONES,
    )


PAGES = Router(
    "/settings/users",
    route_handlers=[edit_user_page, edit_user_submit],
    include_in_schema=False,
)
ROUTERS = [PAGES]
