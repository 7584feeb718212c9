"""Settings → Activity log: the organisation's latest events."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.activity.changes import changes_of
from portal.activity.queries import recent_events
from portal.orders.timeline import LABELS as ORDER_EVENT_LABELS
from portal.pages import page
from portal.permissions.guards import requires
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal

PAGE_SIZE = 100

ACTION_LABELS = {
    "auth.signed_in": "Signed in",
    "auth.sign_in_failed": "Failed sign-in",
    "auth.signed_out": "Signed out",
    "organisation.created": "Organisation created",
    "user.created": "User created",
    "policy.created": "Permission policy created",
    "policy.changed": "Permission policy changed",
    "role.created": "Role created",
    "role.changed": "Role changed",
    "auth.password_reset": "Password reset",
    "auth.password_reset_requested": "Password reset requested",
    "invitation.accepted": "Invitation accepted",
    "invitation.cancelled": "Invitation cancelled",
    "invitation.expired": "Invitation expired",
    "invitation.reminded": "Invitation reminder sent",
    "invitation.sent": "Invitation sent",
    "user.access_email_sent": "Access email sent",
    "user.changed": "User changed",
    "user.deactivated": "User deactivated",
    "user.invited": "User invited",
    "user.reactivated": "User reactivated",
    "invitation_batch.uploaded": "Invitations uploaded from a CSV file",
    "service.contact_assigned": "Service contact assigned",
    "approval_policy.created": "Approval policy created",
    "approval_policy.changed": "Approval policy changed",
    "organisation.approval_timing_changed": "Approval reminder and escalation times changed",
    "organisation.approval_levels_changed": "Approval levels: different person rule changed",
    "cost_centre.created": "Cost centre created",
    "cost_centre.changed": "Cost centre renamed",
    "cost_centre.archived": "Cost centre archived",
    "cost_centre.restored": "Cost centre restored",
    **{kind.action: f"Order: {label.lower()}" for kind, label in ORDER_EVENT_LABELS.items()},
}


@get("/", opt=requires(Area.ACTIVITY_LOG, Level.READ))
async def activity_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    events = await recent_events(principal.organisation_id, PAGE_SIZE)
    for event in events:
        event["changes"] = changes_of(event["data"])
    return page(request, "activity/index.html", events=events, labels=ACTION_LABELS)


PAGES = Router(
    "/settings/activity",
    route_handlers=[activity_page],
    include_in_schema=False,
)
ROUTERS = [PAGES]
