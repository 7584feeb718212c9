"""What an event changed, as the activity log shows it: each field's before and after. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_VALUE = 80


def shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(item) for item in value) or "—"
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {shown(item)}" for key, item in value.items()) or "—"
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def changes_of(data: Any) -> list[str]:
    """["tier: user → manager", ...] from an event's {"before": ..., "after": ...}."""
    if not isinstance(data, Mapping) or "after" not in data:
        return []
    before, after = data.get("before"), data["after"]
    if isinstance(after, Mapping) and before is None:
        before = {}
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        return [
            f"{name.replace('_', ' ')}: {shown(before.get(name))} → {shown(after[name])}"
            for name in after
            if before.get(name) != after[name]
        ]
    if before != after:
        return [f"{shown(before)} → {shown(after)}"]
    return []
