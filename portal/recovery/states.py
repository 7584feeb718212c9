"""What a password-reset link means now. Pure: the state follows from the stored status, the
clock and whether the account may still sign in, and every state has its own page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ResetState(StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    USED = "used"
    SUPERSEDED = "superseded"
    ACCOUNT_INACTIVE = "account_inactive"


def reset_state(
    status: str, expires_at: datetime, now: datetime, account_active: bool
) -> ResetState:
    if status != "pending":
        return ResetState(status)
    if now >= expires_at:
        return ResetState.EXPIRED
    return ResetState.USABLE if account_active else ResetState.ACCOUNT_INACTIVE


# (title, text, HTTP status) per state; {organisation} is filled in by the page.
STATE_PAGES = {
    ResetState.EXPIRED: (
        "This link has expired",
        "Password reset links work for one hour. Ask for a new one with “Forgot password?” on "
        "the sign-in page, or ask an administrator of {organisation} to send you an access email.",
        410,
    ),
    ResetState.USED: (
        "This link has already been used",
        "The password was changed with it. Sign in with your new password; if that was not you, "
        "ask for a new link with “Forgot password?” and tell an administrator of {organisation}.",
        409,
    ),
    ResetState.SUPERSEDED: (
        "A newer link was sent",
        "This link was replaced by a newer one. Use the link in the most recent email, or ask for "
        "a new one with “Forgot password?” on the sign-in page.",
        410,
    ),
    ResetState.ACCOUNT_INACTIVE: (
        "This account is not active",
        "Its password cannot be reset. Ask an administrator of {organisation} if you believe you "
        "should have access.",
        410,
    ),
}
