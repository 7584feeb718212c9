"""Email addresses as the portal stores and compares them."""

from __future__ import annotations

import re
import unicodedata

from portal.text import has_control_characters

MAX_EMAIL_LENGTH = 320
# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is proven by the
# invitation email itself.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Japanese writes one name in three scripts: they count as one here.
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK"}
MIXED_SCRIPTS = (
    "The part before the @ mixes alphabets (such as a Cyrillic letter among Latin ones), "
    "so it can pass for another address; type it again."
)


def normalise_email(email: str) -> str:
    """Emails are unique system-wide compared case-insensitively, so they are stored folded,
    in one Unicode form (NFC: a composed "é" and "e" + accent are the same address)."""
    return unicodedata.normalize("NFC", email.strip().casefold())


def scripts_of(text: str) -> set[str]:
    """The alphabets of the letters in a text ("LATIN", "CYRILLIC", ...)."""
    scripts = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            script = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            scripts.add(_SAME_SCRIPT.get(script, script))
    return scripts


def email_problem(email: str) -> str | None:
    """Why a (normalised) address is refused, or None."""
    if len(email) > MAX_EMAIL_LENGTH or has_control_characters(email):
        return "This is not a valid email address."
    if _EMAIL.fullmatch(email) is None:
        return "This is not a valid email address."
    if len(scripts_of(email.rpartition("@")[0])) > 1:
        return MIXED_SCRIPTS
    return None


def is_valid_email(email: str) -> bool:
    return email_problem(email) is None
