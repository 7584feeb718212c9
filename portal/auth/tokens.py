"""Secret tokens for links and sessions: 256 random bits, and the hash that is stored.

Only the hash ever reaches the database or Redis, so a copy of either cannot be replayed.
"""

from __future__ import annotations

import hashlib
import secrets

# Longer than any token new_token() makes; longer input is refused before hashing.
MAX_TOKEN_LENGTH = 100


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
