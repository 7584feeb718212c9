"""What an event is about, by its current name and with a link: one query per kind on a page
(never one per row), always within the organisation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.columns import Column
from piccolo.table import Table

from portal.activity.log import SubjectKind
from portal.approvals.tables import ApprovalPolicy
from portal.costcentres.tables import CostCentre
from portal.orders.tables import Order
from portal.permissions.tables import PermissionPolicy, Role
from portal.services.tables import Service
from portal.users.tables import User


@dataclass(frozen=True, slots=True)
class Named:
    label: str
    href: str | None


@dataclass(frozen=True, slots=True)
class KindSource:
    table: type[Table]
    columns: tuple[Column, ...]
    label: Callable[[Mapping[str, Any]], str]
    href: str  # with {id}

    def search(self, organisation_id: UUID, pattern: str) -> Any:
        """The ids of this kind whose name holds the pattern, as a subquery."""
        condition: Any = None
        for column in self.columns:
            if isinstance(column.value_type, type) and issubclass(column.value_type, str):
                term = column.ilike(pattern)
                condition = term if condition is None else condition | term
        return self.table.select(self.table._meta.primary_key).where(
            (self.table._meta.get_column_by_name("organisation") == organisation_id) & condition
        )


SOURCES: dict[SubjectKind, KindSource] = {
    SubjectKind.USER: KindSource(
        User,
        (User.full_name, User.email),
        lambda row: f"{row['full_name']} ({row['email']})",
        "/settings/users/{id}",
    ),
    SubjectKind.ORDER: KindSource(
        Order, (Order.number,), lambda row: f"Order {row['number']}", "/orders/{id}"
    ),
    SubjectKind.APPROVAL_POLICY: KindSource(
        ApprovalPolicy,
        (ApprovalPolicy.name,),
        lambda row: f"Approval policy {row['name']}",
        "/settings/approval-policies/{id}",
    ),
    SubjectKind.PERMISSION_POLICY: KindSource(
        PermissionPolicy,
        (PermissionPolicy.name,),
        lambda row: f"Permission policy {row['name']}",
        "/settings/policies/{id}",
    ),
    SubjectKind.ROLE: KindSource(
        Role, (Role.name,), lambda row: f"Role {row['name']}", "/settings/roles/{id}"
    ),
    SubjectKind.COST_CENTRE: KindSource(
        CostCentre,
        (CostCentre.code, CostCentre.name),
        lambda row: f"Cost centre {row['code']} · {row['name']}",
        "/settings/cost-centres",
    ),
    SubjectKind.SERVICE: KindSource(
        Service, (Service.name,), lambda row: f"Service {row['name']}", "/services/{id}"
    ),
}
ORGANISATION = Named("The organisation", None)


async def names_of(
    organisation_id: UUID, subjects: Iterable[tuple[str, UUID | None]]
) -> dict[UUID, Named]:
    """The current name and link of each (kind, id); an id of another organisation, or of a
    kind without a source, is left out."""
    wanted: dict[SubjectKind, set[UUID]] = defaultdict(set)
    for kind, ref in subjects:
        if ref is not None and kind in SubjectKind._value2member_map_:
            wanted[SubjectKind(kind)].add(ref)
    found: dict[UUID, Named] = {}
    for kind, ids in wanted.items():
        if kind is SubjectKind.ORGANISATION:
            found.update({ref: ORGANISATION for ref in ids if ref == organisation_id})
            continue
        source = SOURCES.get(kind)
        if source is None:
            continue
        key = source.table._meta.primary_key
        rows = await source.table.select(key, *source.columns).where(
            key.is_in(list(ids))
            & (source.table._meta.get_column_by_name("organisation") == organisation_id)
        )
        for row in rows:
            found[row["id"]] = Named(source.label(row), source.href.format(id=row["id"]))
    return found
