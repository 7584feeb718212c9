"""The approval engine's rules: which policies apply, who may decide, and where an order
stands. Pure functions over plain values, no I/O; the engine loads the values and stores the
results.

An evaluation turns the policies that apply into steps, grouped by level. The steps are the
order's snapshot: a policy edited later does not change them. Who may decide is worked out
afresh from the snapshot and the organisation as it is now, so that a deactivated approver no
longer counts and a level that is left with nobody falls to the admins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

# A policy names a tier as a role: "tier:admin", "tier:manager", "tier:user".
TIER_ROLE_PREFIX = "tier:"
ADMIN_ROLE = f"{TIER_ROLE_PREFIX}admin"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    id: UUID
    name: str
    level: int
    threshold: Decimal
    order_kinds: frozenset[str] = frozenset()
    cost_centres: frozenset[str] = frozenset()
    approver_users: frozenset[UUID] = frozenset()
    approver_roles: frozenset[str] = frozenset()
    required: int = 1


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What policies look at, and who asks."""

    kind: str
    estimated_cost: Decimal
    cost_centre: str
    requester: UUID


@dataclass(frozen=True, slots=True)
class Directory:
    """The organisation's people as they are now: who is active, who is an admin, and the
    members of each role a policy names ("tier:admin", "tier:manager", or a role's id)."""

    active: frozenset[UUID]
    admins: frozenset[UUID]
    role_members: Mapping[str, frozenset[UUID]]
    # The organisation's rule "each level needs a different person": whoever approved a level
    # of an order may not decide its later levels.
    distinct_levels: bool = False
    # The active people's (email, full name), for what the engine writes to them.
    contacts: Mapping[UUID, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One policy's demand on one level: `required` approvals from `approvers`."""

    level: int
    policy_id: UUID
    policy_name: str
    required: int
    approvers: frozenset[UUID]


@dataclass(frozen=True, slots=True)
class Decision:
    approver: UUID
    level: int
    approve: bool
    # The steps (policy ids) the approver could decide when deciding; the approval counts for
    # them whatever happens to the approver or the admins later. None: work it out now (for
    # decisions being considered, not yet recorded).
    counts_for: frozenset[UUID] | None = None


class State(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an order stands: its state, the level waiting (if pending), who may decide on it
    now, and how many approvals each step of that level has and needs."""

    state: State
    level: int | None
    deciders: frozenset[UUID]
    tallies: tuple[tuple[Step, int, int], ...] = ()


def applies(rule: PolicyRule, order: OrderFacts) -> bool:
    """Strictly greater than the threshold; an empty kind or cost-centre list means any."""
    return (
        order.estimated_cost > rule.threshold
        and (not rule.order_kinds or order.kind in rule.order_kinds)
        and (not rule.cost_centres or order.cost_centre in rule.cost_centres)
    )


def named_approvers(rule: PolicyRule, directory: Directory) -> frozenset[UUID]:
    """The users a policy names, directly or through roles; naming nobody means all admins."""
    if not rule.approver_users and not rule.approver_roles:
        return directory.admins
    people = set(rule.approver_users)
    for role in rule.approver_roles:
        people |= directory.role_members.get(role, frozenset())
    return frozenset(people)


def evaluate(
    rules: Iterable[PolicyRule], order: OrderFacts, directory: Directory
) -> tuple[Step, ...]:
    """The steps of every applicable policy, lowest level first."""
    steps = [
        Step(
            rule.level, rule.id, rule.name, max(1, rule.required), named_approvers(rule, directory)
        )
        for rule in rules
        if applies(rule, order)
    ]
    return tuple(sorted(steps, key=lambda step: (step.level, step.policy_name, step.policy_id)))


def eligible(
    step: Step,
    requester: UUID,
    directory: Directory,
    escalated: bool = False,
    excluded: frozenset[UUID] = frozenset(),
) -> frozenset[UUID]:
    """Who may approve this step now: its active approvers but never the requester, plus the
    admins once escalated; if that leaves nobody, the admins (still never the requester).
    `excluded`: who approved an earlier level, where each level needs a different person."""
    unable = excluded | {requester}
    admins = directory.admins - unable
    people = (step.approvers & directory.active) - unable
    if escalated:
        people |= admins
    return people or admins


def approvals_needed(step: Step, eligible_now: frozenset[UUID], counted: frozenset[UUID]) -> int:
    """N of the eligible approvers, but never more than there are people who could give them."""
    return min(step.required, len(eligible_now | counted))


def progress(
    steps: Sequence[Step],
    decisions: Iterable[Decision],
    requester: UUID,
    directory: Directory,
    escalated: bool = False,
    reached_level: int | None = None,
) -> Progress:
    """Approved when every level has its approvals; rejected at the first rejection.

    `reached_level` is the level the order waits on: the levels below it were complete when
    the order moved past them, and stay so whoever comes and goes later. `escalated` applies
    to that level only.
    """
    decisions = list(decisions)
    if any(not decision.approve for decision in decisions):
        return Progress(State.REJECTED, None, frozenset())
    levels = sorted(
        {step.level for step in steps if reached_level is None or step.level >= reached_level}
    )
    for level in levels:
        waiting_escalated = escalated and level == levels[0]
        at_level = [d for d in decisions if d.level == level]
        approved = frozenset(d.approver for d in at_level)
        excluded = earlier_approvers(decisions, level) if directory.distinct_levels else frozenset()
        tallies = []
        deciders: set[UUID] = set()
        for step in (step for step in steps if step.level == level):
            eligible_now = eligible(step, requester, directory, waiting_escalated, excluded)
            counted = frozenset(d.approver for d in at_level if counts(d, step, eligible_now))
            tallies.append((step, len(counted), approvals_needed(step, eligible_now, counted)))
            deciders |= eligible_now
        if any(count < needed or needed == 0 for _, count, needed in tallies):
            return Progress(State.PENDING, level, frozenset(deciders - approved), tuple(tallies))
    return Progress(State.APPROVED, None, frozenset())


def waiting_deciders(
    steps: Sequence[Step],
    level: int,
    requester: UUID,
    directory: Directory,
    escalated: bool = False,
    decisions: Iterable[Decision] = (),
) -> frozenset[UUID]:
    """Who may decide the level an order waits on, as things stand: whoever may approve one
    of its steps now and has not decided it yet. What each person's queue holds."""
    decisions = list(decisions)
    excluded = earlier_approvers(decisions, level) if directory.distinct_levels else frozenset()
    people: set[UUID] = set()
    for step in steps:
        if step.level == level:
            people |= eligible(step, requester, directory, escalated, excluded)
    return frozenset(people - {d.approver for d in decisions if d.level == level})


def earlier_approvers(decisions: Iterable[Decision], level: int) -> frozenset[UUID]:
    """Who approved a level below this one (of the same revision)."""
    return frozenset(d.approver for d in decisions if d.level < level and d.approve)


def shared_approvers(
    steps: Sequence[Step], requester: UUID, directory: Directory
) -> dict[UUID, tuple[int, ...]]:
    """The people who may approve more than one level of an order as things stand: one person
    could then clear several levels alone (unless each level needs a different person)."""
    levels: dict[UUID, set[int]] = {}
    for step in steps:
        for person in eligible(step, requester, directory):
            levels.setdefault(person, set()).add(step.level)
    return {person: tuple(sorted(held)) for person, held in levels.items() if len(held) > 1}


def counts(decision: Decision, step: Step, eligible_now: frozenset[UUID]) -> bool:
    if decision.counts_for is not None:
        return step.policy_id in decision.counts_for
    return decision.approver in step.approvers | eligible_now


def counts_for(
    steps: Sequence[Step],
    level: int,
    approver: UUID,
    requester: UUID,
    directory: Directory,
    escalated: bool = False,
    decisions: Iterable[Decision] = (),
) -> frozenset[UUID]:
    """The steps of a level an approver may decide now: what their decision will count for.
    `decisions`: the revision's earlier ones, which exclude their approvers from this level
    where each level needs a different person."""
    excluded = earlier_approvers(decisions, level) if directory.distinct_levels else frozenset()
    return frozenset(
        step.policy_id
        for step in steps
        if step.level == level
        and approver in eligible(step, requester, directory, escalated, excluded)
    )


def step_to_json(step: Step) -> dict[str, Any]:
    return {
        "level": step.level,
        "policy_id": str(step.policy_id),
        "policy_name": step.policy_name,
        "required": step.required,
        "approvers": sorted(str(approver) for approver in step.approvers),
    }


def step_from_json(data: Mapping[str, Any]) -> Step:
    return Step(
        level=int(data["level"]),
        policy_id=UUID(data["policy_id"]),
        policy_name=str(data["policy_name"]),
        required=int(data["required"]),
        approvers=frozenset(UUID(approver) for approver in data["approvers"]),
    )


def snapshot_steps(snapshot: Mapping[str, Any]) -> tuple[Step, ...]:
    return tuple(step_from_json(step) for step in snapshot.get("steps", ()))
