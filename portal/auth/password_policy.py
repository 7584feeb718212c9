"""The organisation's password rules, as a pure check returning every problem found."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.auth.signin import MAX_PASSWORD_LENGTH

DEFAULT_MIN_LENGTH = 15  # NIST SP 800-63B-4 for password-only accounts


@dataclass(frozen=True, slots=True)
class PasswordRules:
    min_length: int = DEFAULT_MIN_LENGTH


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords that zxcvbn ships, folded for comparison."""
    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


def password_problems(
    password: str, rules: PasswordRules, email: str, organisation_name: str
) -> list[str]:
    problems = []
    if len(password) < rules.min_length:
        problems.append(f"Use at least {rules.min_length} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    folded = password.casefold()
    if folded in common_passwords():
        problems.append("This password is among the most common ones; choose another.")
    local_part = email.casefold().split("@", 1)[0]
    if len(local_part) >= 3 and local_part in folded:
        problems.append("The password must not contain your email address.")
    org = organisation_name.casefold().strip()
    if len(org) >= 3 and org in folded:
        problems.append("The password must not contain the organisation's name.")
    return problems
