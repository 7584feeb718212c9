from __future__ import annotations

import asyncio

import pytest

from portal.organisations.service import NewMember, OrganisationError, create_organisation
from portal.organisations.tables import Organisation
from portal.permissions.model import Tier
from portal.users.tables import User
from tests.conftest import PASSWORD


async def test_two_operators_racing_with_one_name_create_one_organisation(database: None) -> None:
    results = await asyncio.gather(
        create_organisation("Hooli", NewMember("a@hooli.example", "Gavin", Tier.ADMIN, PASSWORD)),
        create_organisation("HOOLI", NewMember("b@hooli.example", "Gavin", Tier.ADMIN, PASSWORD)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], OrganisationError), results
    assert await Organisation.count() == 1
    assert await User.count() == 1


async def test_one_email_cannot_own_two_organisations(database: None) -> None:
    await create_organisation("Hooli", NewMember("a@hooli.example", "Gavin", Tier.ADMIN, PASSWORD))
    with pytest.raises(OrganisationError, match="already in use"):
        await create_organisation(
            "Pied Piper", NewMember("A@Hooli.Example", "Richard", Tier.ADMIN, PASSWORD)
        )
    assert await Organisation.count() == 1


async def test_weak_owner_password_is_refused(database: None) -> None:
    with pytest.raises(OrganisationError, match="at least 15 characters"):
        await create_organisation("Hooli", NewMember("a@hooli.example", "G", Tier.ADMIN, "short"))
    with pytest.raises(OrganisationError, match="organisation's name"):
        await create_organisation(
            "Hooli", NewMember("a@hooli.example", "G", Tier.ADMIN, "hooli hooli hooli 2026")
        )
    assert await Organisation.count() == 0
