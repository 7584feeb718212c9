"""Permission resolution: the one rule that decides a principal's level in an area.

Effective level = the highest level any of the principal's roles (tier included) grants,
then per-user grants raise an area and per-user restrictions cap it; a restriction wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portal.permissions.model import (
    AREA_MAX_LEVEL,
    TIER_GRANTS,
    TIER_SCOPE,
    Area,
    Grants,
    Level,
    OverrideKind,
    Scope,
    Tier,
)


@dataclass(frozen=True, slots=True)
class Override:
    area: Area
    kind: OverrideKind
    level: Level


def level_in(
    area: Area,
    tier: Tier,
    role_grants: Iterable[Grants],
    overrides: Iterable[Override] = (),
) -> Level:
    """The effective level in one area, computed straight from the stored grants."""
    level = TIER_GRANTS[tier].get(area, Level.NONE)
    for grants in role_grants:
        granted = grants.get(area, Level.NONE)
        if granted > level:
            level = granted
    cap = AREA_MAX_LEVEL[area]
    for override in overrides:
        if override.area is not area:
            continue
        if override.kind is OverrideKind.GRANT:
            level = max(level, override.level)
        else:
            cap = min(cap, override.level)
    return min(level, cap)


def effective_levels(
    tier: Tier,
    role_grants: Iterable[Grants],
    overrides: Iterable[Override] = (),
) -> dict[Area, Level]:
    """Every area's effective level; the same rule as :func:`level_in`, for all areas at once."""
    levels = dict.fromkeys(Area, Level.NONE)
    levels.update(TIER_GRANTS[tier])
    for grants in role_grants:
        for area, granted in grants.items():
            if granted > levels[area]:
                levels[area] = granted
    caps = dict(AREA_MAX_LEVEL)
    for override in overrides:
        if override.kind is OverrideKind.GRANT:
            levels[override.area] = max(levels[override.area], override.level)
        else:
            caps[override.area] = min(caps[override.area], override.level)
    return {area: min(level, caps[area]) for area, level in levels.items()}


def role_levels(policy_grants: Iterable[Grants]) -> dict[Area, Level]:
    """What a role adds up to: every area at the highest level any of its policies grants."""
    levels = dict.fromkeys(Area, Level.NONE)
    for grants in policy_grants:
        for area, granted in grants.items():
            if granted > levels[area]:
                levels[area] = granted
    return levels


def allows(levels: Mapping[Area, Level], area: Area, required: Level) -> bool:
    return levels.get(area, Level.NONE) >= required


def service_scope(tier: Tier) -> Scope:
    return TIER_SCOPE[tier]
