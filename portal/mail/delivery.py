"""Delivering one owed email: over SMTP when SMTP_URL is set, else into the local outbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aiosmtplib

from portal.jobs import wake_delivery_at
from portal.mail.outbox import claim, mark_failed, mark_sent
from portal.mail.rules import RetryPolicy
from portal.settings import Settings

logger = logging.getLogger(__name__)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_seconds=settings.mail_retry_base_seconds,
        cap_seconds=settings.mail_retry_cap_seconds,
        give_up_after_seconds=settings.mail_give_up_after_seconds,
    )


async def deliver(email_id: UUID, settings: Settings) -> str:
    """Send one email if it is still owed (and due); returns what happened (for logs and
    tests). A refusal is not an error of the job: the email goes back to the outbox with its
    next attempt's time, a delayed wake-up is queued for then, and the sweep makes good a lost
    one."""
    row = await claim(email_id, timedelta(seconds=settings.mail_lease_seconds))
    if row is None:
        return "not owed"
    attempt = row["attempts"]
    if settings.smtp_url is None:
        # The local outbox: the row itself is the delivered message, read on /dev/outbox, and
        # a copy for mail tools goes to the data directory.
        await asyncio.to_thread(write_eml, settings.data_dir / "outbox", _message(settings, row))
        await mark_sent(email_id, attempt, "local")
        return "kept locally"
    try:
        await _send_smtp(settings, _message(settings, row))
    except (aiosmtplib.SMTPException, OSError) as error:
        reason = f"{type(error).__name__}: {error}"
        next_at = await mark_failed(
            email_id, attempt, row["created_at"], reason, retry_policy(settings)
        )
        if next_at is None:
            logger.warning("email %s given up after %d attempts: %s", email_id, attempt, reason)
            return "given up"
        wake_delivery_at(email_id, next_at)
        return f"attempt {attempt} failed ({reason}); next at {next_at.isoformat()}"
    if not await mark_sent(email_id, attempt, "smtp"):
        # The lease ran out mid-send and another worker took the email over.
        logger.warning("email %s was sent after its lease ended", email_id)
    return "sent"


def write_eml(directory: Path, message: EmailMessage) -> Path:
    """The message as an .eml file named after its Message-ID: a retry rewrites the same file,
    and a reader never sees half of one (written aside, then renamed)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
    path = directory / f"{name}.eml"
    partial = directory / f".{name}.eml.partial"
    partial.write_bytes(message.as_bytes())
    partial.replace(path)
    return path


def _message(settings: Settings, row: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    # Stable across retries: a receiver can tell a retransmission from a second email.
    message["Message-ID"] = f"<{row['id']}@portal.invalid>"
    message.set_content(row["text_body"])
    message.add_alternative(row["html_body"], subtype="html")
    return message


async def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url)
    await aiosmtplib.send(
        message,
        hostname=url.hostname or "localhost",
        port=url.port or (465 if url.scheme == "smtps" else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=url.scheme == "smtps",
        # smtp:// upgrades with STARTTLS when the server offers it; smtps:// is TLS from the start.
        start_tls=False if url.scheme == "smtps" else None,
        timeout=30,
    )
