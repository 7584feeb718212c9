"""The demo organisation of the embedded mode: Acme, with an admin, a manager and a user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from portal.db import write_transaction
from portal.organisations.service import NewMember, add_member, create_organisation
from portal.organisations.tables import Organisation
from portal.permissions.model import Tier

DEMO_ORGANISATION = "Acme"
DEMO_MEMBERS = (
    ("admin@acme.example", "Ada Admin", Tier.ADMIN),
    ("manager@acme.example", "Max Manager", Tier.MANAGER),
    ("user@acme.example", "Uma User", Tier.USER),
)


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    emails: tuple[str, ...]
    password: str
    created: bool


def demo_password(data_dir: Path, from_environment: str | None) -> str:
    """The demo password: PORTAL_DEMO_PASSWORD, else one generated once and kept beside the
    database, so that every later start can print it again."""
    if from_environment:
        return from_environment
    kept = data_dir / "demo_password"
    if kept.exists():
        return kept.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(15)
    kept.write_text(password)
    kept.chmod(0o600)
    return password


async def ensure_demo_organisation(password: str) -> DemoSignIn:
    emails = tuple(email for email, _, _ in DEMO_MEMBERS)
    if await Organisation.exists().where(Organisation.name == DEMO_ORGANISATION):
        return DemoSignIn(emails, password, created=False)
    (owner_email, owner_name, owner_tier), *others = DEMO_MEMBERS
    organisation_id = await create_organisation(
        DEMO_ORGANISATION, NewMember(owner_email, owner_name, owner_tier, password)
    )
    async with write_transaction():
        for email, name, tier in others:
            await add_member(
                organisation_id, DEMO_ORGANISATION, NewMember(email, name, tier, password)
            )
    return DemoSignIn(emails, password, created=True)
