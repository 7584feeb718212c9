"""Server-side sessions in the portal's database: who, which epoch, when, and a one-time notice.

The cookie holds a 256-bit random token; the table holds its SHA-256, so a copy of the table
cannot be replayed as cookies. A new token is issued at every sign-in and privilege change
(rotation). One query per request reads the session with its user and organisation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from portal.auth.tables import UserSession
from portal.auth.tokens import MAX_TOKEN_LENGTH, new_token, token_hash
from portal.db import HotQuery
from portal.organisations.tables import Organisation
from portal.permissions.principal import Principal, principal_from_row, principal_select
from portal.users.tables import User

# Writing on every request would turn every read into a write; once a minute is enough
# precision for an idle timeout counted in minutes.
RENEW_AFTER_SECONDS = 60


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: UUID
    user_id: UUID
    epoch: int
    created_at: float
    renewed_at: float
    notice: str = ""

    def expired(self, now: float, idle_seconds: int, absolute_seconds: int) -> bool:
        return now - self.renewed_at > idle_seconds or now - self.created_at > absolute_seconds

    def renewal_due(self, now: float) -> bool:
        return now - self.renewed_at >= RENEW_AFTER_SECONDS


def cookie_name(secure: bool) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, path=/ and no Domain.
    return "__Host-portal_session" if secure else "portal_session"


def _session_query() -> str:
    selected, joined = principal_select()
    table = UserSession._meta.tablename
    # Built from the table definitions only; the token's hash is a bound parameter ({}).
    return (
        f's."id" AS "session_id", s."epoch" AS "session_epoch_started", '
        f's."created_at" AS "session_created_at", s."renewed_at" AS "session_renewed_at", '
        f's."notice" AS "session_notice", {selected} '
        f'FROM "{table}" s JOIN "{User._meta.tablename}" u ON u."id" = s."user" {joined} '
        'WHERE s."token_hash" = {}'
    )


_SESSION_QUERY = HotQuery("SELECT " + _session_query())


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return float(value.timestamp())


class SessionStore:
    async def create(self, user_id: UUID, epoch: int) -> str:
        token = new_token()
        now = datetime.now(UTC)
        await UserSession.insert(
            UserSession(
                id=uuid4(),
                token_hash=token_hash(token),
                user=user_id,
                epoch=epoch,
                created_at=now,
                renewed_at=now,
            )
        )
        return token

    async def load(self, token: str) -> tuple[SessionRecord, Principal | None] | None:
        """The session of a cookie's token with its principal, in one query; None when there is
        no such session. The principal is None when its user may no longer act, or their
        sessions were ended since this one began."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        row = await _SESSION_QUERY.fetch_row(token_hash(token))
        if row is None:
            return None
        record = SessionRecord(
            id=row["session_id"],
            user_id=row["id"],
            epoch=row["session_epoch_started"],
            created_at=_seconds(row["session_created_at"]),
            renewed_at=_seconds(row["session_renewed_at"]),
            notice=row["session_notice"] or "",
        )
        return record, await principal_from_row(row, record.epoch)

    async def renew(self, record: SessionRecord, now: float) -> None:
        await UserSession.update({UserSession.renewed_at: datetime.fromtimestamp(now, UTC)}).where(
            UserSession.id == record.id
        )

    async def destroy(self, session_id: UUID) -> None:
        await UserSession.delete().where(UserSession.id == session_id)

    async def destroy_token(self, token: str) -> None:
        await UserSession.delete().where(UserSession.token_hash == token_hash(token))

    async def leave_notice(self, session_id: UUID, notice: Any) -> None:
        """What the next page shows once, after a redirect."""
        await UserSession.update({UserSession.notice: json.dumps(notice)}).where(
            UserSession.id == session_id
        )

    async def clear_notice(self, session_id: UUID) -> None:
        await UserSession.update({UserSession.notice: ""}).where(UserSession.id == session_id)


async def purge_expired(now: datetime | None = None) -> int:
    """Delete sessions past their organisation's idle or absolute timeout; how many went.
    Idempotent: expired sessions are refused anyway, this only keeps the table small. One
    statement per distinct pair of timeouts (most organisations keep the defaults)."""
    now = now or datetime.now(UTC)
    rows = await Organisation.select(
        Organisation.id, Organisation.idle_timeout_minutes, Organisation.absolute_timeout_minutes
    )
    by_timeouts: dict[tuple[int, int], list[UUID]] = {}
    for row in rows:
        pair = (row["idle_timeout_minutes"], row["absolute_timeout_minutes"])
        by_timeouts.setdefault(pair, []).append(row["id"])
    removed = 0
    for (idle, absolute), organisations in by_timeouts.items():
        people = User.select(User.id).where(User.organisation.is_in(organisations))
        gone = (
            await UserSession.delete()
            .where(
                UserSession.user.is_in(people)
                & (
                    (UserSession.renewed_at < now - timedelta(minutes=idle))
                    | (UserSession.created_at < now - timedelta(minutes=absolute))
                )
            )
            .returning(UserSession.id)
        )
        removed += len(gone)
    return removed
