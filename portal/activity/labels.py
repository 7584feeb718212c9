"""What the activity log calls each action it records. Pure."""

from __future__ import annotations

from portal.orders.timeline import LABELS as ORDER_EVENT_LABELS

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
    "role.archived": "Role archived",
    "role.restored": "Role restored",
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
    "cost_centre.created": "Cost centre created",
    "cost_centre.changed": "Cost centre renamed",
    "cost_centre.archived": "Cost centre archived",
    "cost_centre.restored": "Cost centre restored",
    "approval_policy.created": "Approval policy created",
    "approval_policy.changed": "Approval policy changed",
    "organisation.approval_timing_changed": "Approval reminder and escalation times changed",
    "organisation.approval_levels_changed": "Approval levels: different person rule changed",
    **{kind.action: f"Order: {label.lower()}" for kind, label in ORDER_EVENT_LABELS.items()},
}
