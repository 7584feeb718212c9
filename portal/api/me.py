"""GET /api/v1/me: who the API thinks you are, and what you may do."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency

from portal.permissions.guards import signed_in
from portal.permissions.principal import Principal


class OrganisationOut(msgspec.Struct):
    id: UUID
    name: str


class MeOut(msgspec.Struct):
    id: UUID
    email: str
    full_name: str
    display_name: str | None
    kind: str
    tier: str
    is_owner: bool
    scope: str
    organisation: OrganisationOut
    roles: list[str]
    permissions: dict[str, str]


@get("/", opt=signed_in(), tags=["account"], summary="The signed-in principal")
async def me(principal: NamedDependency[Principal]) -> MeOut:
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        full_name=principal.full_name,
        display_name=principal.display_name,
        kind=principal.kind,
        tier=principal.tier.value,
        is_owner=principal.is_owner,
        scope=principal.scope.value,
        organisation=OrganisationOut(
            id=principal.organisation_id, name=principal.organisation_name
        ),
        roles=list(principal.roles),
        permissions=dict(principal.level_names),
    )


API = Router(
    "/api/v1/me",
    route_handlers=[me],
)
ROUTERS = [API]
