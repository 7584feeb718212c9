"""The demo organisation of the embedded mode: Acme, with an admin, a manager and a user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from portal.approvals.tables import ApprovalPolicy
from portal.costcentres.tables import CostCentre
from portal.db import UNIQUE_VIOLATIONS, write_transaction
from portal.organisations.service import (
    NewMember,
    OrganisationError,
    add_member,
    create_organisation,
)
from portal.organisations.tables import Organisation
from portal.permissions.model import Tier
from portal.services.tables import Service
from portal.users.tables import User

DEMO_ORGANISATION = "Acme"
# What a process meets when another one seeded the demo a moment before it.
RACE_LOST: tuple[type[Exception], ...] = (OrganisationError, *UNIQUE_VIOLATIONS)
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
    """Seed the demo once. It appears whole or not at all (one transaction), and two processes
    starting at once on a fresh database both succeed: the database keeps one seeding, and
    the other finds it done."""
    emails = tuple(email for email, _, _ in DEMO_MEMBERS)
    for _ in range(3):
        if await Organisation.exists().where(Organisation.name == DEMO_ORGANISATION):
            return DemoSignIn(emails, password, created=False)
        try:
            await _seed(password)
        except RACE_LOST:
            continue  # another process seeded it meanwhile: look again
        return DemoSignIn(emails, password, created=True)
    raise RuntimeError("the demo organisation could neither be seeded nor found")


async def _seed(password: str) -> None:
    (owner_email, owner_name, owner_tier), *others = DEMO_MEMBERS
    async with write_transaction():
        organisation_id = await create_organisation(
            DEMO_ORGANISATION, NewMember(owner_email, owner_name, owner_tier, password)
        )
        for email, name, tier in others:
            await add_member(
                organisation_id, DEMO_ORGANISATION, NewMember(email, name, tier, password)
            )
        await _seed_cost_centres(organisation_id)
        await _seed_services(organisation_id)
        await _seed_approval_policies(organisation_id)


DEMO_COST_CENTRES = (
    # code, name, archived?
    ("IT-100", "IT and infrastructure", False),
    ("OPS-200", "Operations", False),
    ("SAL-300", "Sales", False),
    ("FIN-400", "Finance", False),
    ("MKT-500", "Marketing (closed)", True),
)


async def _seed_cost_centres(organisation_id: UUID) -> None:
    """The list the demo's services name, and orders and policies choose from; one archived,
    so that the list shows what archiving does."""
    await CostCentre.insert(
        *(
            CostCentre(organisation=organisation_id, code=code, name=name, archived=archived)
            for code, name, archived in DEMO_COST_CENTRES
        )
    )


DEMO_SERVICES = (
    # name, type, site, cost centre, monthly cost, assigned to the demo user?
    ("Head office broadband 1 Gbps", "Broadband", "London HQ", "IT-100", "349.00", False),
    ("Leeds branch broadband 500 Mbps", "Broadband", "Leeds", "IT-100", "189.00", True),
    ("SIP trunk, 30 channels", "Voice", "London HQ", "OPS-200", "420.00", False),
    ("Mobile fleet, 45 lines", "Mobile", "Company-wide", "SAL-300", "1215.00", False),
    ("Field engineer mobiles, 12 lines", "Mobile", "Leeds", "OPS-200", "324.00", True),
    ("Cloud backup, 10 TB", "Cloud", "Data centre", "IT-100", "275.50", False),
    ("Microsoft 365 Business, 60 seats", "Software", "Company-wide", "IT-100", "756.00", False),
    ("Leased line, 10 Gbps", "Connectivity", "Data centre", "IT-100", "1890.00", False),
    ("Conference bridge", "Voice", "London HQ", "SAL-300", "59.00", True),
    ("Managed firewall", "Security", "London HQ", "IT-100", "310.00", False),
)


async def _seed_services(organisation_id: UUID) -> None:
    """A realistic set of services; some assigned to the demo user, so scoping shows."""
    user = await User.select(User.id).where(User.email == "user@acme.example").first()
    manager = await User.select(User.id).where(User.email == "manager@acme.example").first()
    assert user is not None and manager is not None
    await Service.insert(
        *(
            Service(
                organisation=organisation_id,
                name=name,
                kind=kind,
                site=site,
                cost_centre=cost_centre,
                monthly_cost=Decimal(cost),
                currency="GBP",
                contact=user["id"] if for_user else manager["id"],
            )
            for name, kind, site, cost_centre, cost, for_user in DEMO_SERVICES
        )
    )


async def _seed_approval_policies(organisation_id: UUID) -> None:
    """A two-level chain, so that a manager's larger orders wait in the admin's queue."""
    await ApprovalPolicy.insert(
        ApprovalPolicy(
            organisation=organisation_id,
            name="Orders over 500",
            threshold=Decimal("500.00"),
            level=1,
        ),
        ApprovalPolicy(
            organisation=organisation_id,
            name="Orders over 5,000",
            threshold=Decimal("5000.00"),
            level=2,
        ),
    )
