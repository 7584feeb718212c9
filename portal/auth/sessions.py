"""Server-side sessions, kept tiny: who, which epoch, when. Everything else is in the database.

The cookie holds a 256-bit random token; the store key is its SHA-256, so a copy of the store
cannot be replayed as cookies. A new token is issued at every sign-in (rotation).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from litestar.stores.base import Store

from portal.auth.tokens import MAX_TOKEN_LENGTH, new_token, token_hash

# Touching the store on every request would turn every read into a write; once a minute is
# enough precision for an idle timeout counted in minutes.
RENEW_AFTER_SECONDS = 60
# A notice waits this long for the page it was left for (the redirect's target).
NOTICE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class SessionRecord:
    user_id: str
    epoch: int
    created_at: float
    renewed_at: float

    @property
    def user_uuid(self) -> UUID:
        return UUID(self.user_id)

    def expired(self, now: float, idle_seconds: int, absolute_seconds: int) -> bool:
        return now - self.renewed_at > idle_seconds or now - self.created_at > absolute_seconds


def cookie_name(secure: bool) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, path=/ and no Domain.
    return "__Host-portal_session" if secure else "portal_session"


def _key(token: str) -> str:
    return "session:" + token_hash(token)


def _notice_key(token: str) -> str:
    return "notice:" + token_hash(token)


class SessionStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, user_id: UUID, epoch: int, idle_seconds: int) -> str:
        token = new_token()
        now = time.time()
        record = SessionRecord(str(user_id), epoch, created_at=now, renewed_at=now)
        await self._store.set(_key(token), json.dumps(asdict(record)), expires_in=idle_seconds)
        return token

    async def load(self, token: str) -> SessionRecord | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        raw = await self._store.get(_key(token))
        if raw is None:
            return None
        try:
            return SessionRecord(**json.loads(raw))
        except (TypeError, ValueError):
            return None

    async def renew_if_due(
        self, token: str, record: SessionRecord, now: float, idle_seconds: int
    ) -> None:
        if now - record.renewed_at < RENEW_AFTER_SECONDS:
            return
        renewed = SessionRecord(record.user_id, record.epoch, record.created_at, renewed_at=now)
        await self._store.set(_key(token), json.dumps(asdict(renewed)), expires_in=idle_seconds)

    async def destroy(self, token: str) -> None:
        await self._store.delete(_key(token))

    async def leave_notice(self, token: str, notice: Any) -> None:
        """What the next page shows once, after a redirect: beside the session, not in it, so
        the session record stays tiny."""
        await self._store.set(_notice_key(token), json.dumps(notice), expires_in=NOTICE_SECONDS)

    async def take_notice(self, token: str) -> Any:
        """The notice left for this session, gone once taken; None if there is none."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        raw = await self._store.get(_notice_key(token))
        if raw is None:
            return None
        await self._store.delete(_notice_key(token))
        return json.loads(raw)
