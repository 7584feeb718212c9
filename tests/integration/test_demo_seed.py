"""Seeding the demo organisation: whole or not at all, and once however many processes start
at the same moment on a fresh database."""

from __future__ import annotations

import asyncio

from portal.approvals.tables import ApprovalPolicy
from portal.costcentres.tables import CostCentre
from portal.demo import (
    DEMO_COST_CENTRES,
    DEMO_MEMBERS,
    DEMO_ORGANISATION,
    DEMO_SERVICES,
    ensure_demo_organisation,
)
from portal.organisations.tables import Organisation
from portal.services.tables import Service
from portal.users.tables import User

PASSWORD = "correct horse battery staple 42"


async def test_starts_at_the_same_moment_seed_the_demo_once(database: None) -> None:
    results = await asyncio.gather(*(ensure_demo_organisation(PASSWORD) for _ in range(3)))
    assert sorted(result.created for result in results) == [False, False, True]
    assert await Organisation.count().where(Organisation.name == DEMO_ORGANISATION) == 1
    assert await User.count() == len(DEMO_MEMBERS)
    assert await Service.count() == len(DEMO_SERVICES)
    assert await ApprovalPolicy.count() == 2
    assert await CostCentre.count() == len(DEMO_COST_CENTRES)
    # Every demo service names an active cost centre of the list.
    active = {code for code, _, archived in DEMO_COST_CENTRES if not archived}
    assert {centre for _, _, _, centre, _, _ in DEMO_SERVICES} <= active
    again = await ensure_demo_organisation(PASSWORD)
    assert again.created is False
    assert await User.count() == len(DEMO_MEMBERS)
