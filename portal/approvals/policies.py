"""Approval policies: reading them as rules for the engine, and the admins' changes to them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.querystring import QueryString

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.approvals.directory import load_directory
from portal.approvals.rules import (
    TIER_ROLE_PREFIX,
    OrderFacts,
    PolicyRule,
    applies,
    eligible,
    evaluate,
)
from portal.approvals.tables import ApprovalPolicy
from portal.costcentres.queries import centres_of
from portal.costcentres.rules import choose_codes
from portal.db import UNIQUE_VIOLATIONS, engine, write_transaction
from portal.errors import FIELDS_MESSAGE, Refusal
from portal.orders.states import OrderKind
from portal.orders.validation import parse_money
from portal.permissions.model import Tier
from portal.permissions.tables import Role
from portal.text import add_control_character_errors
from portal.users.queries import names_of
from portal.users.tables import User

POLICY_COLUMNS = (
    ApprovalPolicy.id,
    ApprovalPolicy.name,
    ApprovalPolicy.active,
    ApprovalPolicy.threshold,
    ApprovalPolicy.order_kinds,
    ApprovalPolicy.cost_centres,
    ApprovalPolicy.approver_users,
    ApprovalPolicy.approver_roles,
    ApprovalPolicy.required_approvals,
    ApprovalPolicy.level,
)


def json_list(value: Any) -> list[Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return list(loaded or [])


def rule_of(row: Mapping[str, Any]) -> PolicyRule:
    return PolicyRule(
        id=row["id"],
        name=row["name"],
        level=row["level"],
        threshold=Decimal(row["threshold"]),
        order_kinds=frozenset(json_list(row["order_kinds"])),
        cost_centres=frozenset(json_list(row["cost_centres"])),
        approver_users=frozenset(UUID(user) for user in json_list(row["approver_users"])),
        approver_roles=frozenset(json_list(row["approver_roles"])),
        required=row["required_approvals"],
    )


def _active_rules_query() -> str:
    """SQL text built once from the table definition: every evaluation reads it."""
    columns = ", ".join(f'"{column._meta.db_column_name}"' for column in POLICY_COLUMNS)
    return (
        f'SELECT {columns} FROM "{ApprovalPolicy._meta.tablename}" '  # noqa: S608
        'WHERE "organisation" = {} AND "active" = {}'
    )


_ACTIVE_RULES = _active_rules_query()


async def active_rules(organisation_id: UUID) -> list[PolicyRule]:
    rows = await engine().run_querystring(QueryString(_ACTIVE_RULES, organisation_id, True))
    return [rule_of(row) for row in rows]


MAX_NAME = 100
MAX_LEVEL = 10
MAX_REQUIRED = 50
MAX_LIST = 100
TIER_ROLES = tuple(f"{TIER_ROLE_PREFIX}{tier.value}" for tier in Tier)


@dataclass(frozen=True, slots=True)
class PolicyInput:
    name: str
    active: bool
    threshold: Decimal
    order_kinds: tuple[str, ...]
    cost_centres: tuple[str, ...]
    approver_users: tuple[UUID, ...]
    approver_roles: tuple[str, ...]
    required_approvals: int
    level: int


class PolicyError(Refusal):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, errors, status)


def whole_number(value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError(f"Enter a whole number from {low} to {high}.")
    number = int(str(value).strip())
    if not low <= number <= high:
        raise ValueError(f"Enter a whole number from {low} to {high}.")
    return number


def check_policy(fields: Mapping[str, Any]) -> tuple[PolicyInput | None, dict[str, str]]:
    """Every field checked at once. Lists come as lists (API) or comma-separated text (pages)."""
    errors: dict[str, str] = {}
    name = str(fields.get("name") or "").strip()
    if not name:
        errors["name"] = "Give the policy a name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Use at most {MAX_NAME} characters."
    threshold = Decimal(0)
    raw_threshold = fields.get("threshold")
    try:
        threshold = parse_money(raw_threshold if raw_threshold is not None else "", allow_zero=True)
    except ValueError as error:
        errors["threshold"] = str(error)
    kinds = _listed(fields.get("order_kinds"))
    if any(kind not in {k.value for k in OrderKind} for kind in kinds):
        errors["order_kinds"] = "Order types are 'new' and 'change'."
    centres = _listed(fields.get("cost_centres"))
    if len(centres) > MAX_LIST or any(len(centre) > 60 for centre in centres):
        errors["cost_centres"] = f"List at most {MAX_LIST} cost centres of up to 60 characters."
    users: list[UUID] = []
    for raw in _listed(fields.get("approver_users")):
        try:
            users.append(UUID(raw))
        except ValueError:
            errors["approver_users"] = "Choose approvers from the list."
    roles = _listed(fields.get("approver_roles"))
    if len(users) > MAX_LIST or len(roles) > MAX_LIST:
        errors["approver_users"] = f"Name at most {MAX_LIST} users and {MAX_LIST} roles."
    numbers: dict[str, int] = {}
    for key, high in (("required_approvals", MAX_REQUIRED), ("level", MAX_LEVEL)):
        try:
            numbers[key] = whole_number(fields.get(key, 1), 1, high)
        except ValueError as error:
            errors[key] = str(error)
    add_control_character_errors(errors, {"name": name})
    if errors:
        return None, errors
    return (
        PolicyInput(
            name=name,
            active=_truthy(fields.get("active", True)),
            threshold=threshold,
            order_kinds=tuple(dict.fromkeys(kinds)),
            cost_centres=tuple(dict.fromkeys(centres)),
            approver_users=tuple(dict.fromkeys(users)),
            approver_roles=tuple(dict.fromkeys(roles)),
            required_approvals=numbers["required_approvals"],
            level=numbers["level"],
        ),
        {},
    )


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "on", "yes")


async def _check_people(organisation_id: UUID, policy: PolicyInput) -> None:
    """Named users and roles must belong to the organisation: another tenant's id is unknown."""
    errors = {}
    if policy.approver_users:
        found = await User.count().where(
            User.id.is_in(list(policy.approver_users))
            & (User.organisation == organisation_id)
            & (User.status != "inactive")
        )
        if found != len(policy.approver_users):
            errors["approver_users"] = "Choose active users of this organisation."
    custom = [role for role in policy.approver_roles if role not in TIER_ROLES]
    ids = []
    for role in custom:
        try:
            ids.append(UUID(role))
        except ValueError:
            errors["approver_roles"] = "Choose roles from the list."
    if ids and "approver_roles" not in errors:
        found = await Role.count().where(
            Role.id.is_in(ids) & (Role.organisation == organisation_id)
        )
        if found != len(ids):
            errors["approver_roles"] = "Choose roles from the list."
    if errors:
        raise PolicyError(422, "Some fields need another look.", errors)


async def _with_cost_centres(
    organisation_id: UUID, policy: PolicyInput, kept: Iterable[str]
) -> PolicyInput:
    """The policy naming cost centres of the organisation's list by their codes: active
    ones, or archived ones the policy named already (`kept`)."""
    try:
        codes = choose_codes(policy.cost_centres, await centres_of(organisation_id), kept)
    except ValueError as error:
        raise PolicyError(422, FIELDS_MESSAGE, {"cost_centres": str(error)}) from None
    return replace(policy, cost_centres=codes)


def _values(policy: PolicyInput) -> dict[Any, Any]:
    return {
        ApprovalPolicy.name: policy.name,
        ApprovalPolicy.active: policy.active,
        ApprovalPolicy.threshold: policy.threshold,
        ApprovalPolicy.order_kinds: json.dumps(list(policy.order_kinds)),
        ApprovalPolicy.cost_centres: json.dumps(list(policy.cost_centres)),
        ApprovalPolicy.approver_users: json.dumps([str(u) for u in policy.approver_users]),
        ApprovalPolicy.approver_roles: json.dumps(list(policy.approver_roles)),
        ApprovalPolicy.required_approvals: policy.required_approvals,
        ApprovalPolicy.level: policy.level,
    }


def _as_dict(policy: PolicyInput) -> dict[str, Any]:
    return {column._meta.name: value for column, value in _values(policy).items()} | {
        "threshold": str(policy.threshold)
    }


async def save_policy(actor: Actor, policy: PolicyInput, policy_id: UUID | None = None) -> UUID:
    """Create or change a policy. Orders already waiting keep the snapshot they were given."""
    async with write_transaction():
        await _check_people(actor.organisation_id, policy)
        before = None
        if policy_id is not None:
            before = (
                await ApprovalPolicy.select(*POLICY_COLUMNS)
                .where(
                    (ApprovalPolicy.id == policy_id)
                    & (ApprovalPolicy.organisation == actor.organisation_id)
                )
                .first()
            )
            if before is None:
                raise PolicyError(404, "No such approval policy.")
        kept = json_list(before["cost_centres"]) if before else []
        policy = await _with_cost_centres(actor.organisation_id, policy, kept)
        try:
            if policy_id is None:
                row = ApprovalPolicy(organisation=actor.organisation_id)
                for column, value in _values(policy).items():
                    setattr(row, column._meta.name, value)
                await row.save()
                policy_id = row.id
            else:
                await ApprovalPolicy.update(
                    _values(policy) | {ApprovalPolicy.updated_at: datetime.now(UTC)}
                ).where(ApprovalPolicy.id == policy_id)
        except UNIQUE_VIOLATIONS:
            raise PolicyError(
                409, "Another policy has that name.", {"name": "Another policy has that name."}
            ) from None
        await log_action(
            "approval_policy.created" if before is None else "approval_policy.changed",
            organisation_id=actor.organisation_id,
            about=Subject(SubjectKind.APPROVAL_POLICY, policy_id),
            actor_id=actor.user_id,
            origin=actor.origin,
            data={
                "policy": str(policy_id),
                "before": _shown(before) if before else None,
                "after": _as_dict(policy),
            },
        )
    assert policy_id is not None
    return policy_id


def _shown(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: (str(value) if isinstance(value, (Decimal, UUID)) else value)
        for key, value in row.items()
    }


async def list_policies(organisation_id: UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await ApprovalPolicy.select(*POLICY_COLUMNS)
        .where(ApprovalPolicy.organisation == organisation_id)
        .order_by(ApprovalPolicy.level)
        .order_by(ApprovalPolicy.threshold)
        .order_by(ApprovalPolicy.name)
    )
    return rows


async def get_policy(organisation_id: UUID, policy_id: UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await ApprovalPolicy.select(*POLICY_COLUMNS)
        .where((ApprovalPolicy.id == policy_id) & (ApprovalPolicy.organisation == organisation_id))
        .first()
    )
    return row


@dataclass(frozen=True, slots=True)
class PreviewStep:
    level: int
    policy_name: str
    required: int
    approvers: list[str]
    fallback: bool


async def preview(
    organisation_id: UUID, kind: str, cost: Decimal, cost_centre: str, requester: UUID | None
) -> list[PreviewStep]:
    """Which active policies would apply to a hypothetical order, and who would approve it."""
    facts = OrderFacts(kind, cost, cost_centre, requester or UUID(int=0))
    rules = [rule for rule in await active_rules(organisation_id) if applies(rule, facts)]
    directory = await load_directory(
        organisation_id, {role for rule in rules for role in rule.approver_roles}
    )
    steps = evaluate(rules, facts, directory)
    people = {p for step in steps for p in eligible(step, facts.requester, directory)}
    names = await names_of(people)
    result = []
    for step in steps:
        chosen = eligible(step, facts.requester, directory)
        named = (step.approvers & directory.active) - {facts.requester}
        result.append(
            PreviewStep(
                step.level,
                step.policy_name,
                step.required,
                sorted(names.get(p, "?") for p in chosen),
                fallback=not named,
            )
        )
    return result
