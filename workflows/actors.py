"""Every actor, for `dramatiq workflows.actors` and the in-process workers."""

from workflows.approvals import (
    evaluate_submitted_order,
    remind_and_escalate_approvals,
    sweep_submitted_orders,
)
from workflows.broker import broker
from workflows.housekeeping import purge_expired_sessions
from workflows.invitation_batches import process_invitation_batch, sweep_invitation_batches
from workflows.invitations import remind_and_expire_invitations
from workflows.mail import deliver_email, sweep_owed_emails

__all__ = [
    "broker",
    "deliver_email",
    "evaluate_submitted_order",
    "process_invitation_batch",
    "purge_expired_sessions",
    "remind_and_escalate_approvals",
    "remind_and_expire_invitations",
    "sweep_invitation_batches",
    "sweep_owed_emails",
    "sweep_submitted_orders",
]
