"""Who may decide the level an order waits on: the rule each queue's rows hold."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.approvals.rules import Decision, Step, progress, waiting_deciders
from tests.unit.approvals.test_approval_rules import directory, people, step


def test_only_the_waiting_levels_approvers_may_decide() -> None:
    first, second, requester = people(3)
    steps = [step({first}), step({second}, level=2)]
    found = waiting_deciders(steps, 1, requester, directory({first, second}))
    assert found == {first}


def test_whoever_decided_the_level_is_no_longer_asked() -> None:
    one, two, requester = people(3)
    steps = [step({one, two}, required=2)]
    found = waiting_deciders(
        steps, 1, requester, directory({one, two}), decisions=[Decision(one, 1, True)]
    )
    assert found == {two}


def test_an_earlier_levels_approver_stays_unless_each_level_needs_a_different_person() -> None:
    one, two, requester = people(3)
    steps = [step({one}), step({one, two}, level=2)]
    earlier = [Decision(one, 1, True)]
    together = directory({one, two})
    assert waiting_deciders(steps, 2, requester, together, decisions=earlier) == {one, two}
    apart = replace(together, distinct_levels=True)
    assert waiting_deciders(steps, 2, requester, apart, decisions=earlier) == {two}


def test_escalation_adds_the_admins_but_never_the_requester() -> None:
    finance, admin, requester = people(3)
    people_now = directory({finance}, admins={admin, requester})
    steps = [step({finance})]
    assert waiting_deciders(steps, 1, requester, people_now) == {finance}
    assert waiting_deciders(steps, 1, requester, people_now, escalated=True) == {finance, admin}


def test_a_level_left_with_nobody_falls_to_the_admins() -> None:
    gone, admin, requester = people(3)
    steps = [step({gone, requester})]
    assert waiting_deciders(steps, 1, requester, directory(set(), admins={admin})) == {admin}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.sets(st.integers(0, 6)), st.integers(1, 3)),
        min_size=1,
        max_size=5,
    ),
    st.sets(st.integers(0, 6)),
    st.sets(st.integers(0, 6)),
    st.integers(0, 6),
    st.booleans(),
)
def test_a_fresh_order_waits_on_the_people_progress_names(
    shapes: list[tuple[int, set[int], int]],
    active: set[int],
    admins: set[int],
    requester: int,
    escalated: bool,
) -> None:
    who = people(7)
    steps = sorted(
        (
            Step(level, uuid4(), f"p{n}", required, frozenset(who[i] for i in approvers))
            for n, (level, approvers, required) in enumerate(shapes)
        ),
        key=lambda s: (s.level, s.policy_name),
    )
    people_now = directory({who[i] for i in active}, admins={who[i] for i in admins})
    state = progress(steps, (), who[requester], people_now, escalated, steps[0].level)
    assert state.level == steps[0].level
    assert state.deciders == waiting_deciders(
        steps, steps[0].level, who[requester], people_now, escalated
    )
