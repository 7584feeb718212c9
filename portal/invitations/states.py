"""What an invitation link means now. Pure: the state follows from the stored status and the
clock, and every state has its own page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class LinkState(StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


def link_state(status: str, expires_at: datetime, now: datetime) -> LinkState:
    if status == "pending":
        return LinkState.USABLE if now < expires_at else LinkState.EXPIRED
    return LinkState(status)


STATE_MESSAGES = {
    LinkState.EXPIRED: (
        "This invitation has expired",
        "Invitation links work for a limited time. Ask {inviter} or another administrator "
        "of {organisation} to send you a new one.",
    ),
    LinkState.ACCEPTED: (
        "This invitation has already been used",
        "The account it created is active. Sign in with your email and the password you chose.",
    ),
    LinkState.CANCELLED: (
        "This invitation was cancelled",
        "An administrator of {organisation} withdrew it. Ask {inviter} if you believe you "
        "should have access.",
    ),
    LinkState.SUPERSEDED: (
        "A newer invitation was sent",
        "This link was replaced by a newer one. Use the link in the most recent invitation "
        "email from {organisation}, or ask {inviter} to send it again.",
    ),
}
