"""The approval engine's pure rules: which policies apply, who may decide, where an order stands,
and the snapshot of steps an order keeps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.approvals.rules import (
    ADMIN_ROLE,
    Decision,
    Directory,
    OrderFacts,
    PolicyRule,
    State,
    Step,
    applies,
    approvals_needed,
    counts_for,
    earlier_approvers,
    eligible,
    evaluate,
    named_approvers,
    progress,
    shared_approvers,
    snapshot_steps,
    step_from_json,
    step_to_json,
)

# --- builders --------------------------------------------------------------------------------


def rule(
    *,
    level: int = 1,
    threshold: str = "100.00",
    name: str = "policy",
    order_kinds: frozenset[str] = frozenset(),
    cost_centres: frozenset[str] = frozenset(),
    approver_users: frozenset[UUID] = frozenset(),
    approver_roles: frozenset[str] = frozenset(),
    required: int = 1,
) -> PolicyRule:
    return PolicyRule(
        id=uuid4(),
        name=name,
        level=level,
        threshold=Decimal(threshold),
        order_kinds=order_kinds,
        cost_centres=cost_centres,
        approver_users=approver_users,
        approver_roles=approver_roles,
        required=required,
    )


def facts(
    *,
    cost: str = "500.00",
    kind: str = "new",
    cost_centre: str = "CC-1",
    requester: UUID | None = None,
) -> OrderFacts:
    return OrderFacts(
        kind=kind,
        estimated_cost=Decimal(cost),
        cost_centre=cost_centre,
        requester=requester or uuid4(),
    )


def directory(
    active: set[UUID] | frozenset[UUID],
    admins: set[UUID] | frozenset[UUID] = frozenset(),
    roles: Mapping[str, frozenset[UUID]] | None = None,
) -> Directory:
    return Directory(
        active=frozenset(active) | frozenset(admins),
        admins=frozenset(admins),
        role_members=dict(roles or {}),
    )


def step(
    approvers: set[UUID] | frozenset[UUID],
    *,
    level: int = 1,
    required: int = 1,
    name: str = "policy",
) -> Step:
    return Step(level, uuid4(), name, required, frozenset(approvers))


def people(n: int) -> tuple[UUID, ...]:
    return tuple(uuid4() for _ in range(n))


# --- which policies apply --------------------------------------------------------------------


def test_threshold_is_strictly_greater_equal_cost_does_not_apply() -> None:
    policy = rule(threshold="1000.00")
    assert not applies(policy, facts(cost="1000.00"))
    assert not applies(policy, facts(cost="999.99"))
    assert applies(policy, facts(cost="1000.01"))


def test_threshold_zero_applies_to_any_positive_cost() -> None:
    assert applies(rule(threshold="0"), facts(cost="0.01"))


def test_empty_order_kinds_means_any_kind() -> None:
    policy = rule()
    assert applies(policy, facts(kind="new"))
    assert applies(policy, facts(kind="change"))


def test_non_empty_order_kinds_restrict() -> None:
    policy = rule(order_kinds=frozenset({"change"}))
    assert applies(policy, facts(kind="change"))
    assert not applies(policy, facts(kind="new"))


def test_empty_cost_centres_means_any_cost_centre() -> None:
    policy = rule()
    assert applies(policy, facts(cost_centre="CC-1"))
    assert applies(policy, facts(cost_centre="anything else"))
    assert applies(policy, facts(cost_centre=""))


def test_non_empty_cost_centres_restrict() -> None:
    policy = rule(cost_centres=frozenset({"CC-1", "CC-2"}))
    assert applies(policy, facts(cost_centre="CC-2"))
    assert not applies(policy, facts(cost_centre="CC-3"))
    assert not applies(policy, facts(cost_centre=""))


def test_every_condition_must_hold_at_once() -> None:
    policy = rule(threshold="100", order_kinds=frozenset({"new"}), cost_centres=frozenset({"CC-1"}))
    assert applies(policy, facts(cost="101", kind="new", cost_centre="CC-1"))
    assert not applies(policy, facts(cost="100", kind="new", cost_centre="CC-1"))
    assert not applies(policy, facts(cost="101", kind="change", cost_centre="CC-1"))
    assert not applies(policy, facts(cost="101", kind="new", cost_centre="CC-2"))


def test_evaluate_leaves_out_policies_that_do_not_apply() -> None:
    applying = rule(name="applies", threshold="100")
    too_high = rule(name="too high", threshold="10000")
    wrong_kind = rule(name="wrong kind", order_kinds=frozenset({"change"}))
    steps = evaluate([applying, too_high, wrong_kind], facts(cost="500"), directory(set()))
    assert [s.policy_id for s in steps] == [applying.id]


# --- who a policy names ----------------------------------------------------------------------


def test_policy_naming_nobody_means_all_admins() -> None:
    admin_1, admin_2, member = people(3)
    org = directory({member}, admins={admin_1, admin_2})
    assert named_approvers(rule(), org) == {admin_1, admin_2}
    (only,) = evaluate([rule()], facts(), org)
    assert only.approvers == {admin_1, admin_2}


def test_policy_naming_users_does_not_add_admins() -> None:
    admin, approver = people(2)
    org = directory({approver}, admins={admin})
    assert named_approvers(rule(approver_users=frozenset({approver})), org) == {approver}


def test_roles_expand_via_directory_role_members() -> None:
    manager_1, manager_2, finance, direct, admin = people(5)
    role_id = str(uuid4())
    org = directory(
        {manager_1, manager_2, finance, direct},
        admins={admin},
        roles={"tier:manager": frozenset({manager_1, manager_2}), role_id: frozenset({finance})},
    )
    policy = rule(
        approver_users=frozenset({direct}), approver_roles=frozenset({"tier:manager", role_id})
    )
    assert named_approvers(policy, org) == {manager_1, manager_2, finance, direct}


def test_admin_role_expands_like_any_other_role() -> None:
    admin = uuid4()
    org = directory(set(), admins={admin}, roles={ADMIN_ROLE: frozenset({admin})})
    assert named_approvers(rule(approver_roles=frozenset({ADMIN_ROLE})), org) == {admin}


def test_role_missing_from_directory_names_nobody_not_admins() -> None:
    admin = uuid4()
    org = directory(set(), admins={admin})
    assert named_approvers(rule(approver_roles=frozenset({"tier:manager"})), org) == frozenset()


# --- evaluation ------------------------------------------------------------------------------


def test_evaluate_sorts_steps_by_level() -> None:
    rules = [rule(level=3, name="a"), rule(level=1, name="b"), rule(level=2, name="c")]
    steps = evaluate(rules, facts(), directory(set()))
    assert [s.level for s in steps] == [1, 2, 3]
    assert [s.policy_name for s in steps] == ["b", "c", "a"]


def test_evaluate_orders_one_level_by_policy_name() -> None:
    rules = [rule(name="zeta"), rule(name="alpha"), rule(name="mid")]
    steps = evaluate(rules, facts(), directory(set()))
    assert [s.policy_name for s in steps] == ["alpha", "mid", "zeta"]


def test_evaluate_copies_the_policy_into_the_step() -> None:
    approver = uuid4()
    policy = rule(level=2, name="Big spend", required=3, approver_users=frozenset({approver}))
    (only,) = evaluate([policy], facts(), directory({approver}))
    assert only == Step(2, policy.id, "Big spend", 3, frozenset({approver}))


def test_evaluate_requires_at_least_one_approval() -> None:
    steps = evaluate([rule(required=0), rule(required=-2)], facts(), directory(set()))
    assert [s.required for s in steps] == [1, 1]


def test_evaluate_with_no_applicable_policies_gives_no_steps() -> None:
    assert evaluate([rule(threshold="1000")], facts(cost="1000"), directory(set())) == ()


# --- nobody approves their own order ---------------------------------------------------------


def test_requester_is_excluded_from_eligible() -> None:
    requester, other = people(2)
    org = directory({requester, other}, admins={requester})
    assert eligible(step({requester, other}), requester, org) == {other}
    assert requester not in eligible(step({other}), requester, org, escalated=True)


def test_requester_is_never_among_the_deciders() -> None:
    requester, other, admin = people(3)
    org = directory({requester, other}, admins={requester, admin})
    state = progress([step({requester, other})], [], requester, org)
    assert state.state is State.PENDING
    assert state.deciders == {other}


def test_requester_is_not_a_decider_even_when_escalated_and_an_admin() -> None:
    requester, other, admin = people(3)
    org = directory({requester, other}, admins={requester, admin})
    state = progress([step({other})], [], requester, org, escalated=True)
    assert state.deciders == {other, admin}


# --- falling to the admins -------------------------------------------------------------------


def test_step_whose_approvers_are_all_inactive_falls_to_the_admins() -> None:
    gone_1, gone_2, admin_1, admin_2, requester = people(5)
    org = directory({requester}, admins={admin_1, admin_2})
    assert eligible(step({gone_1, gone_2}), requester, org) == {admin_1, admin_2}
    state = progress([step({gone_1, gone_2})], [], requester, org)
    assert state.deciders == {admin_1, admin_2}


def test_step_naming_only_the_requester_falls_to_the_admins_not_the_requester() -> None:
    requester, admin = people(2)
    org = directory({requester}, admins={requester, admin})
    assert eligible(step({requester}), requester, org) == {admin}
    state = progress([step({requester})], [], requester, org)
    assert state.deciders == {admin}


def test_an_admin_approval_after_fallback_counts() -> None:
    gone, admin, requester = people(3)
    org = directory({requester}, admins={admin})
    state = progress([step({gone})], [Decision(admin, 1, True)], requester, org)
    assert state.state is State.APPROVED


def test_requester_as_only_admin_with_nobody_eligible_stays_pending_with_no_deciders() -> None:
    requester, gone = people(2)
    org = directory({requester}, admins={requester})
    only = step({requester, gone})
    state = progress([only], [], requester, org)
    assert state.state is State.PENDING
    assert state.level == 1
    assert state.deciders == frozenset()
    assert state.tallies == ((only, 0, 0),)


def test_needing_zero_approvals_never_approves() -> None:
    requester = uuid4()
    org = directory({requester}, admins={requester})
    state = progress([step({requester}, required=3)], [], requester, org, escalated=True)
    assert state.state is State.PENDING
    assert approvals_needed(step({requester}), frozenset(), frozenset()) == 0


# --- required N ------------------------------------------------------------------------------


def test_required_two_needs_two_approvals_when_two_can_give_them() -> None:
    a, b, requester = people(3)
    org = directory({a, b, requester})
    steps = [step({a, b}, required=2)]
    one = progress(steps, [Decision(a, 1, True)], requester, org)
    assert one.state is State.PENDING
    assert one.tallies[0][1:] == (1, 2)
    both = progress(steps, [Decision(a, 1, True), Decision(b, 1, True)], requester, org)
    assert both.state is State.APPROVED


def test_required_is_capped_to_how_many_could_approve() -> None:
    a, deactivated, requester = people(3)
    org = directory({a, requester})
    steps = [step({a, deactivated}, required=2)]
    before = progress(steps, [], requester, org)
    assert before.tallies[0][1:] == (0, 1)
    assert progress(steps, [Decision(a, 1, True)], requester, org).state is State.APPROVED


def test_required_is_capped_when_the_requester_is_one_of_the_approvers() -> None:
    a, requester = people(2)
    org = directory({a, requester})
    steps = [step({a, requester}, required=2)]
    assert progress(steps, [Decision(a, 1, True)], requester, org).state is State.APPROVED


def test_approvals_needed_never_exceeds_required() -> None:
    a, b, c = people(3)
    assert approvals_needed(step({a, b, c}, required=2), frozenset({a, b, c}), frozenset()) == 2


def test_approval_by_an_approver_deactivated_later_still_counts() -> None:
    a, b, requester = people(3)
    steps = [step({a, b}, required=2)]
    # a approved while active, then was deactivated; b approves now.
    org_now = directory({b, requester})
    decisions = [Decision(a, 1, True), Decision(b, 1, True)]
    assert progress(steps, decisions, requester, org_now).state is State.APPROVED


def test_a_deactivated_approvers_approval_keeps_the_need_at_required() -> None:
    a, b, c, requester = people(4)
    steps = [step({a, b, c}, required=2)]
    org_now = directory({b, requester})  # a approved, then a and c were deactivated
    state = progress(steps, [Decision(a, 1, True)], requester, org_now)
    assert state.state is State.PENDING
    assert state.tallies[0][1:] == (1, 2)
    assert state.deciders == {b}


def test_deactivated_approval_at_a_finished_level_does_not_reopen_it() -> None:
    a, c, requester = people(3)
    steps = [step({a}, level=1), step({c}, level=2)]
    org_now = directory({c, requester})  # a approved level 1, then was deactivated
    state = progress(steps, [Decision(a, 1, True)], requester, org_now)
    assert state.state is State.PENDING
    assert state.level == 2
    assert state.deciders == {c}


# --- levels ----------------------------------------------------------------------------------


def test_two_level_chain_waits_on_level_one_before_level_two() -> None:
    first, second, requester = people(3)
    org = directory({first, second, requester})
    steps = [step({second}, level=2), step({first}, level=1)]

    start = progress(steps, [], requester, org)
    assert (start.state, start.level, start.deciders) == (State.PENDING, 1, frozenset({first}))

    middle = progress(steps, [Decision(first, 1, True)], requester, org)
    assert (middle.state, middle.level, middle.deciders) == (State.PENDING, 2, frozenset({second}))

    done = progress(steps, [Decision(first, 1, True), Decision(second, 2, True)], requester, org)
    assert done.state is State.APPROVED
    assert done.level is None
    assert done.deciders == frozenset()


def test_level_two_approvals_do_not_count_for_level_one() -> None:
    both, requester = people(2)
    org = directory({both, requester})
    steps = [step({both}, level=1), step({both}, level=2)]
    state = progress(steps, [Decision(both, 2, True)], requester, org)
    assert state.state is State.PENDING
    assert state.level == 1
    assert state.deciders == {both}


def test_every_step_of_a_level_must_be_met() -> None:
    a, b, requester = people(3)
    org = directory({a, b, requester})
    steps = [step({a}, name="one"), step({b}, name="two")]
    state = progress(steps, [Decision(a, 1, True)], requester, org)
    assert state.state is State.PENDING
    assert [(count, needed) for _, count, needed in state.tallies] == [(1, 1), (0, 1)]
    assert state.deciders == {b}


def test_any_rejection_rejects() -> None:
    a, b, requester = people(3)
    org = directory({a, b, requester})
    steps = [step({a}, level=1), step({b}, level=2)]
    decisions = [Decision(a, 1, True), Decision(b, 2, False)]
    state = progress(steps, decisions, requester, org)
    assert (state.state, state.level, state.deciders) == (State.REJECTED, None, frozenset())


def test_a_rejection_among_approvals_of_one_level_rejects() -> None:
    a, b, c, requester = people(4)
    org = directory({a, b, c, requester})
    decisions = [Decision(a, 1, True), Decision(b, 1, False), Decision(c, 1, True)]
    state = progress([step({a, b, c}, required=2)], decisions, requester, org)
    assert state.state is State.REJECTED


def test_no_steps_means_approved() -> None:
    requester = uuid4()
    state = progress([], [], requester, directory({requester}))
    assert state == progress((), iter(()), requester, directory(set()))
    assert (state.state, state.level, state.deciders) == (State.APPROVED, None, frozenset())


# --- escalation and deciders -----------------------------------------------------------------


def test_escalated_adds_admins_to_the_eligible_set() -> None:
    approver, admin, requester = people(3)
    org = directory({approver, requester}, admins={admin})
    assert eligible(step({approver}), requester, org) == {approver}
    assert eligible(step({approver}), requester, org, escalated=True) == {approver, admin}
    state = progress([step({approver})], [], requester, org, escalated=True)
    assert state.deciders == {approver, admin}


def test_an_admin_approval_counts_once_escalated() -> None:
    approver, admin, requester = people(3)
    org = directory({approver, requester}, admins={admin})
    steps = [step({approver})]
    decisions = [Decision(admin, 1, True)]
    assert progress(steps, decisions, requester, org, escalated=True).state is State.APPROVED
    assert progress(steps, decisions, requester, org).state is State.PENDING


def test_deciders_exclude_those_who_already_approved_the_level() -> None:
    a, b, c, requester = people(4)
    org = directory({a, b, c, requester})
    state = progress([step({a, b, c}, required=2)], [Decision(a, 1, True)], requester, org)
    assert state.state is State.PENDING
    assert state.deciders == {b, c}


def test_approval_from_someone_not_named_does_not_count() -> None:
    a, stranger, requester = people(3)
    org = directory({a, stranger, requester})
    state = progress([step({a})], [Decision(stranger, 1, True)], requester, org)
    assert state.state is State.PENDING
    assert state.tallies[0][1] == 0


# --- finished levels stay finished -----------------------------------------------------------


def test_escalating_level_two_does_not_reopen_a_finished_level_one() -> None:
    a, deactivated, c, admin, requester = people(5)
    org = directory({a, c, requester}, admins={admin})
    steps = [step({a, deactivated}, level=1, required=2), step({c}, level=2)]
    decisions = [Decision(a, 1, True)]
    assert progress(steps, decisions, requester, org).level == 2
    assert progress(steps, decisions, requester, org, escalated=True, reached_level=2).level == 2
    # Without knowing the order moved on, an escalation would reopen level 1: why the engine
    # always passes the level the order waits on.
    assert progress(steps, decisions, requester, org, escalated=True).level == 1


def test_an_escalated_admin_approval_still_counts_after_the_level_moves_on() -> None:
    a, c, admin, requester = people(4)
    org = directory({a, c, requester}, admins={admin})
    steps = [step({a}, level=1), step({c}, level=2)]
    fixed = [Decision(admin, 1, True, counts_for(steps, 1, admin, requester, org, True))]
    assert progress(steps, fixed, requester, org, escalated=True, reached_level=1).level == 2
    # The engine resets `escalated` when level 2 starts waiting.
    assert progress(steps, fixed, requester, org, escalated=False).level == 2
    assert progress(steps, fixed, requester, org, reached_level=2).deciders == {c}


def test_a_fallback_admin_approval_still_counts_after_the_admin_is_deactivated() -> None:
    gone, admin_1, admin_2, c, requester = people(5)
    steps = [step({gone}, level=1, required=2), step({c}, level=2)]
    then = directory({c, admin_1, admin_2}, admins={admin_1, admin_2})
    approval = Decision(admin_1, 1, True, counts_for(steps, 1, admin_1, requester, then))
    assert approval.counts_for == frozenset({steps[0].policy_id})
    later = directory({c, admin_2, requester}, admins={admin_2})  # admin_1 deactivated
    state = progress(steps, [approval], requester, later, reached_level=1)
    # admin_1's approval stands; admin_2, the one admin left, gives the second.
    assert state.level == 1 and state.deciders == {admin_2}
    assert state.tallies[0][1:] == (1, 2)
    second = Decision(admin_2, 1, True, counts_for(steps, 1, admin_2, requester, later))
    assert progress(steps, [approval, second], requester, later, reached_level=1).level == 2


# --- snapshot --------------------------------------------------------------------------------


def test_step_to_json_is_plain_json_with_sorted_approvers() -> None:
    a, b = people(2)
    original = step({a, b}, level=2, required=2, name="Big spend")
    data = step_to_json(original)
    assert data == {
        "level": 2,
        "policy_id": str(original.policy_id),
        "policy_name": "Big spend",
        "required": 2,
        "approvers": sorted([str(a), str(b)]),
    }
    assert json.loads(json.dumps(data)) == data


def test_step_json_round_trip() -> None:
    original = step(set(people(3)), level=4, required=2, name="Ünïcode policy")
    assert step_from_json(json.loads(json.dumps(step_to_json(original)))) == original


def test_snapshot_steps_reads_every_step_in_order() -> None:
    steps = (step(set(people(2)), level=1), step(set(), level=2), step({uuid4()}, level=2))
    snapshot = json.loads(json.dumps({"steps": [step_to_json(s) for s in steps], "revision": 3}))
    assert snapshot_steps(snapshot) == steps


def test_snapshot_without_steps_has_no_steps() -> None:
    assert snapshot_steps({}) == ()
    assert snapshot_steps({"steps": []}) == ()


# --- properties ------------------------------------------------------------------------------

POOL = people(7)
some_people = st.frozensets(st.sampled_from(POOL))
steps_strategy = st.lists(
    st.builds(
        Step,
        level=st.integers(1, 3),
        policy_id=st.uuids(),
        policy_name=st.sampled_from(["a", "b", "c"]),
        required=st.integers(1, 4),
        approvers=some_people,
    ),
    max_size=5,
)
directory_strategy = st.builds(
    Directory,
    active=some_people,
    admins=some_people,
    role_members=st.just({}),
)


@settings(max_examples=300)
@given(
    steps=steps_strategy,
    org=directory_strategy,
    requester=st.sampled_from(POOL),
    approvals=st.lists(st.tuples(st.sampled_from(POOL), st.integers(1, 3)), max_size=10),
    escalated=st.booleans(),
)
def test_property_requester_is_never_a_decider(
    steps: list[Step],
    org: Directory,
    requester: UUID,
    approvals: list[tuple[UUID, int]],
    escalated: bool,
) -> None:
    decisions = [Decision(who, level, True) for who, level in approvals if who != requester]
    state = progress(steps, decisions, requester, org, escalated)
    assert requester not in state.deciders
    for s in steps:
        assert requester not in eligible(s, requester, org, escalated)


@settings(max_examples=300)
@given(
    steps=steps_strategy,
    org=directory_strategy,
    requester=st.sampled_from(POOL),
    approvals=st.lists(st.tuples(st.sampled_from(POOL), st.integers(1, 3)), max_size=10),
    escalated=st.booleans(),
)
def test_property_approved_only_when_every_step_has_its_approvals(
    steps: list[Step],
    org: Directory,
    requester: UUID,
    approvals: list[tuple[UUID, int]],
    escalated: bool,
) -> None:
    decisions = [Decision(who, level, True) for who, level in approvals if who != requester]
    state = progress(steps, decisions, requester, org, escalated)
    if state.state is State.APPROVED:
        for s in steps:
            approved = {d.approver for d in decisions if d.level == s.level}
            may_count = s.approvers | org.admins
            counted = approved & may_count
            assert requester not in counted
            assert len(counted) >= 1
            named = (s.approvers & org.active) - {requester}
            if named and not escalated:
                # No fallback: the named approvers give the approvals, as many as required
                # unless fewer of them (and of those who approved) are left to give them.
                given = approved & s.approvers
                assert len(given) >= min(s.required, len(named | given))
    else:
        assert state.state is State.PENDING
        assert steps
        assert state.level in {s.level for s in steps}
        assert state.tallies
        assert all(t[0].level == state.level for t in state.tallies)
        assert any(count < needed or needed == 0 for _, count, needed in state.tallies)
        assert not state.deciders & {d.approver for d in decisions if d.level == state.level}


@given(
    level=st.integers(-5, 1000),
    name=st.text(max_size=40),
    required=st.integers(1, 50),
    approvers=st.frozensets(st.uuids(), max_size=6),
    policy_id=st.uuids(),
)
def test_property_step_json_round_trip(
    level: int, name: str, required: int, approvers: frozenset[UUID], policy_id: UUID
) -> None:
    original = Step(level, policy_id, name, required, approvers)
    assert step_from_json(json.loads(json.dumps(step_to_json(original)))) == original


# --- each level a different person -----------------------------------------------------------


def test_one_admin_may_clear_two_levels_unless_each_needs_a_different_person() -> None:
    admin, other_admin, requester = people(3)
    steps = [step(set(), level=1), step(set(), level=2)]  # naming nobody: the admins
    approved_one = [Decision(admin, 1, True)]
    alone = directory({requester}, {admin})
    assert progress(steps, approved_one, requester, alone).deciders == {admin}
    distinct = replace(alone, distinct_levels=True)
    # With nobody else, level 2 is left without a decider rather than to the same person.
    left = progress(steps, approved_one, requester, distinct)
    assert (left.state, left.level, left.deciders) == (State.PENDING, 2, frozenset())
    two = replace(directory({requester}, {admin, other_admin}), distinct_levels=True)
    assert progress(steps, approved_one, requester, two).deciders == {other_admin}
    assert progress(steps, [], requester, two).deciders == {admin, other_admin}
    done = progress(steps, [*approved_one, Decision(other_admin, 2, True)], requester, two)
    assert done.state is State.APPROVED


def test_a_named_approver_of_two_levels_is_shared_and_excluded_later_when_distinct() -> None:
    finance, board, requester, admin = people(4)
    steps = [step({finance}, level=1), step({finance, board}, level=2)]
    where = directory({finance, board, requester}, {admin})
    assert shared_approvers(steps, requester, where) == {finance: (1, 2)}
    distinct = replace(where, distinct_levels=True)
    assert progress(steps, [Decision(finance, 1, True)], requester, distinct).deciders == {board}
    assert progress(steps, [Decision(finance, 1, True)], requester, where).deciders == {
        finance,
        board,
    }
    assert earlier_approvers([Decision(finance, 1, True), Decision(board, 2, True)], 2) == {finance}
    assert (
        shared_approvers([step({finance}, level=1), step({board}, level=2)], requester, where) == {}
    )
