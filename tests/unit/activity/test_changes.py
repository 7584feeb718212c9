"""What the activity log shows an event changed."""

from __future__ import annotations

from portal.activity.changes import MAX_VALUE, changes_of, shown


def test_each_changed_field_shows_before_and_after() -> None:
    data = {
        "before": {"tier": "user", "full_name": "Uma", "roles": ["Auditor"]},
        "after": {"tier": "manager", "full_name": "Uma", "roles": []},
        "reason": "promoted",
    }
    assert changes_of(data) == ["tier: user → manager", "roles: Auditor → —"]


def test_a_state_change_and_what_is_not_a_change() -> None:
    assert changes_of({"before": "active", "after": "inactive"}) == ["active → inactive"]
    assert changes_of({"before": "active", "after": "active"}) == []
    assert changes_of({"email": "a@b.c", "tier": "user"}) == []
    assert changes_of("not a mapping") == []
    assert changes_of({"after": {"distinct_levels": True}}) == ["distinct levels: — → True"]


def test_long_values_are_cut() -> None:
    assert len(shown("x" * 500)) == MAX_VALUE
    assert shown({"reminder_hours": 24}) == "reminder_hours 24"
