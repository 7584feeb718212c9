"""The vocabulary of permissions: areas, levels, tiers and scopes. Pure data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType

MAX_GRANTS_PER_POLICY = 100
# Not a product rule but a bound on one request's work: no organisation needs more.
MAX_POLICIES_PER_ROLE = 100


class Area(StrEnum):
    USERS = "users"
    ROLES = "roles"
    SECURITY_SETTINGS = "security_settings"
    APPROVAL_POLICIES = "approval_policies"
    APPROVALS = "approvals"
    SERVICES = "services"
    USAGE = "usage"
    ORDERS = "orders"
    BILLING = "billing"
    TICKETS = "tickets"
    DOCUMENTS = "documents"
    CONTRACTS = "contracts"
    COST_CENTRES = "cost_centres"
    SCHEDULED_REPORTS = "scheduled_reports"
    USAGE_ALERTS = "usage_alerts"
    ACTIVITY_LOG = "activity_log"
    API_TOKENS = "api_tokens"


class Level(IntEnum):
    """Ordered: a higher level includes every lower one."""

    NONE = 0
    READ = 1
    FULL = 2
    # An action level beyond full, only in areas that declare it (approvals).
    APPROVE = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Level:
        try:
            return cls[value.upper()]
        except KeyError:
            names = ", ".join(level.label for level in cls)
            raise ValueError(f"unknown level {shown(value)}; expected one of {names}") from None


# The highest level each area knows; grants above it are refused.
AREA_MAX_LEVEL: Mapping[Area, Level] = MappingProxyType(
    {area: Level.APPROVE if area is Area.APPROVALS else Level.FULL for area in Area}
)


class Tier(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"


class Scope(StrEnum):
    """Which services a principal sees."""

    ASSIGNED = "assigned"
    ORGANISATION = "organisation"


class OverrideKind(StrEnum):
    GRANT = "grant"
    RESTRICT = "restrict"


Grants = Mapping[Area, Level]

TIER_GRANTS: Mapping[Tier, Grants] = MappingProxyType(
    {
        Tier.ADMIN: MappingProxyType(dict(AREA_MAX_LEVEL)),
        Tier.MANAGER: MappingProxyType(
            {
                Area.SERVICES: Level.READ,
                Area.USAGE: Level.READ,
                Area.ORDERS: Level.FULL,
                Area.BILLING: Level.READ,
                Area.TICKETS: Level.FULL,
                Area.DOCUMENTS: Level.READ,
                Area.SCHEDULED_REPORTS: Level.FULL,
                # Admins manage the list; everyone else may read it (orders choose from it).
                Area.COST_CENTRES: Level.READ,
            }
        ),
        Tier.USER: MappingProxyType(
            {
                Area.SERVICES: Level.READ,
                Area.TICKETS: Level.FULL,
                Area.COST_CENTRES: Level.READ,
            }
        ),
    }
)

TIER_SCOPE: Mapping[Tier, Scope] = MappingProxyType(
    {Tier.ADMIN: Scope.ORGANISATION, Tier.MANAGER: Scope.ORGANISATION, Tier.USER: Scope.ASSIGNED}
)


def shown(value: str, limit: int = 40) -> str:
    """A user's value quoted in a message, cut short: a 10,000-character key stays readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def validate_grant(area: str, level: str) -> tuple[Area, Level]:
    """Parse one area→level grant, refusing unknown areas and levels beyond the area's top."""
    try:
        parsed_area = Area(area)
    except ValueError:
        raise ValueError(f"unknown area {shown(area)}") from None
    parsed_level = Level.parse(level)
    if parsed_level > AREA_MAX_LEVEL[parsed_area]:
        top = AREA_MAX_LEVEL[parsed_area].label
        raise ValueError(f"area {area!r} goes up to {top!r}, not {level!r}")
    return parsed_area, parsed_level


def parse_grants(grants: Mapping[str, str]) -> tuple[dict[Area, Level], dict[str, str]]:
    """A policy's area→level grants, and a message for each refused field: ``grants`` for
    their number or an unknown area, ``grants.<area>`` for a level the area does not know.
    A "none" grant grants nothing, so it is left out."""
    if len(grants) > MAX_GRANTS_PER_POLICY:
        return {}, {"grants": f"A policy holds at most {MAX_GRANTS_PER_POLICY} grants."}
    parsed: dict[Area, Level] = {}
    errors: dict[str, str] = {}
    for area, level in grants.items():
        try:
            parsed_area, parsed_level = validate_grant(area, level)
        except ValueError as error:
            field = f"grants.{area}" if area in _AREA_NAMES else "grants"
            errors.setdefault(field, _sentence(str(error)))
            continue
        if parsed_level is not Level.NONE:
            parsed[parsed_area] = parsed_level
    return parsed, errors


_AREA_NAMES = frozenset(area.value for area in Area)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + "."
