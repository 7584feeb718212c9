"""Reading the activity log's filter from the address bar."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from portal.activity.filters import NOBODY, matching_actions, parse_filter
from portal.activity.log import SubjectKind


def test_dates_cover_whole_days_and_the_rest_is_kept_as_typed() -> None:
    person = uuid4()
    wanted, errors = parse_filter(
        {"from": "2026-03-01", "to": "2026-03-31", "who": str(person), "kind": "order", "q": " x "}
    )
    assert errors == {}
    assert wanted.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert wanted.until == datetime(2026, 4, 1, tzinfo=UTC)
    assert wanted.actor_id == person and not wanted.by_portal
    assert wanted.kind is SubjectKind.ORDER and wanted.search == "x"
    assert wanted.query_string(after="abc") == (
        f"from=2026-03-01&to=2026-03-31&who={person}&kind=order&q=x&after=abc"
    )


def test_the_portal_as_who_and_an_empty_filter() -> None:
    assert parse_filter({"who": NOBODY})[0].by_portal
    wanted, errors = parse_filter({})
    assert errors == {} and wanted.query_string() == ""
    assert (wanted.since, wanted.action, wanted.kind, wanted.ip_prefix) == (None, None, None, "")


def test_each_wrong_field_is_named_and_left_out() -> None:
    wanted, errors = parse_filter(
        {
            "from": "2026-13-01",
            "who": "someone",
            "action": "drop",
            "kind": "x",
            "ip": "10.0.0.1 or 1=1",
            "about": "nope",
        }
    )
    assert set(errors) == {"from", "who", "action", "kind", "ip", "about"}
    assert wanted.since is None and wanted.actor_id is None and wanted.action is None
    assert wanted.ip_prefix == "" and wanted.query_string() == ""


def test_an_end_before_the_start_and_oversized_or_control_text() -> None:
    assert "to" in parse_filter({"from": "2026-03-02", "to": "2026-03-01"})[1]
    assert "q" in parse_filter({"q": "a" * 201})[1]
    assert "q" in parse_filter({"q": "a\x00b"})[1]


def test_search_matches_action_labels_and_names() -> None:
    assert "order.rejected" in matching_actions("REJECTED")
    assert "auth.sign_in_failed" in matching_actions("failed sign")
    assert matching_actions("zzz-nothing") == []
