"""Email addresses as the portal stores and compares them."""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 320
# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is proven by the
# invitation email itself.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalise_email(email: str) -> str:
    """Emails are unique system-wide compared case-insensitively, so they are stored folded."""
    return email.strip().casefold()


def is_valid_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(email) is not None
