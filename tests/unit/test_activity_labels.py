"""Every action the code logs has a human label on the activity page."""

from __future__ import annotations

import re
from pathlib import Path

from portal.activity.handlers import ACTION_LABELS

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ACTION = re.compile(
    r'"((?:auth|user|invitation|invitation_batch|policy|role|organisation|service)\.[a-z_]+)"'
)


def test_every_logged_action_has_a_label() -> None:
    logged = {
        match
        for path in PORTAL.rglob("*.py")
        if path.name != "handlers.py" or path.parent.name != "activity"
        for match in ACTION.findall(path.read_text())
    }
    assert logged, "found no actions: the pattern is wrong"
    assert logged <= set(ACTION_LABELS), sorted(logged - set(ACTION_LABELS))
