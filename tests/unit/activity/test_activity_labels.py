"""Every action the code logs has a human label on the activity page."""

from __future__ import annotations

import re
from pathlib import Path

from portal.activity.labels import ACTION_LABELS
from portal.orders.timeline import LABELS, EventKind

ROOT = Path(__file__).resolve().parents[3]
ACTION = re.compile(
    r'"((?:auth|user|invitation|invitation_batch|policy|role|organisation|service|approval_policy|cost_centre)'
    r'\.[a-z_]+)"'
)


def test_every_logged_action_has_a_label() -> None:
    logged = {
        match
        for folder in ("portal", "workflows")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "labels.py" or path.parent.name != "activity"
        for match in ACTION.findall(path.read_text())
    }
    assert logged, "found no actions: the pattern is wrong"
    assert logged <= set(ACTION_LABELS), sorted(logged - set(ACTION_LABELS))


def test_every_order_event_has_a_label_in_the_timeline_and_the_log() -> None:
    assert set(LABELS) == set(EventKind)
    assert {kind.action for kind in EventKind} <= set(ACTION_LABELS)
