"""A user's per-area overrides as the edit form and the API offer them: raise to a level, or
cap at one, within what the area knows."""

from __future__ import annotations

from portal.permissions.model import AREA_MAX_LEVEL, Area, Level, OverrideKind
from portal.users.service import ChangeError


def override_choices(area: Area) -> list[tuple[str, str]]:
    """(value, label) pairs of the override select for one area."""
    top = AREA_MAX_LEVEL[area]
    levels = [level for level in Level if level <= top]
    grants = [(f"grant:{lv.label}", f"Raise to {lv.label}") for lv in levels if lv > Level.NONE]
    caps = [(f"restrict:{lv.label}", f"Cap at {lv.label}") for lv in levels if lv < top]
    return [("", "No override"), *grants, *caps]


def parse_override(area: Area, raw: str) -> tuple[OverrideKind, Level] | None:
    """ "grant:read" -> (GRANT, READ); "" -> None; anything else is refused."""
    if not raw:
        return None
    if raw not in {value for value, _ in override_choices(area)}:
        raise ChangeError({f"override_{area.value}": "Choose an option from the list."})
    kind, level = raw.split(":", 1)
    return OverrideKind(kind), Level.parse(level)
