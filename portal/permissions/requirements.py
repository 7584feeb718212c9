"""The route requirements that pages and API share, named once: `opt=USERS_FULL` on a handler
is `requires(Area.USERS, Level.FULL)`."""

from __future__ import annotations

from portal.permissions.guards import requires
from portal.permissions.model import Area, Level

USERS_READ = requires(Area.USERS, Level.READ)
USERS_FULL = requires(Area.USERS, Level.FULL)
ROLES_READ = requires(Area.ROLES, Level.READ)
ROLES_FULL = requires(Area.ROLES, Level.FULL)
SERVICES_READ = requires(Area.SERVICES, Level.READ)
SERVICES_FULL = requires(Area.SERVICES, Level.FULL)
ORDERS_READ = requires(Area.ORDERS, Level.READ)
ORDERS_FULL = requires(Area.ORDERS, Level.FULL)
POLICIES_READ = requires(Area.APPROVAL_POLICIES, Level.READ)
POLICIES_FULL = requires(Area.APPROVAL_POLICIES, Level.FULL)
COST_CENTRES_READ = requires(Area.COST_CENTRES, Level.READ)
COST_CENTRES_FULL = requires(Area.COST_CENTRES, Level.FULL)
