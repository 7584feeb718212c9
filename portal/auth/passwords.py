"""Password hashing (argon2id) with a verification path that costs the same whether or not
the account exists."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
# Verified against when no account matches, so that timing does not reveal unknown emails.
_DUMMY_HASH = _hasher.hash("no account has this password: timing equaliser")


def use_parameters(parameters: Parameters) -> None:
    """Hash new passwords with other argon2 parameters. For test suites, which make thousands
    of passwords: a hash carries its parameters, so verifying any stored hash is unchanged."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
