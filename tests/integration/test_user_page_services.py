"""A user's page lists the services they are the contact of, to those who may read services."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.permissions.model import Area, Level, OverrideKind
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Tenant, sign_in
from tests.integration.test_services import add_service


async def test_the_user_page_links_the_services_the_user_is_contact_of(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    mine = await add_service(acme, "Leeds broadband", acme.user.id)
    await add_service(acme, "Someone else's line", acme.manager.id)
    await add_service(globex, "Globex line", globex.user.id)
    await sign_in(client, acme.admin.email)
    page = (await client.get(f"/settings/users/{acme.user.id}")).text
    assert f'<a href="/services/{mine}">Leeds broadband</a>' in page
    assert "Someone else&#39;s line" not in page and "Someone else's line" not in page
    assert "No services." not in page
    nothing = (await client.get(f"/settings/users/{acme.admin.id}")).text
    assert "No services." in nothing and 'href="/services/' not in nothing


async def test_the_list_is_left_out_for_those_who_may_not_read_services(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "Leeds broadband", acme.manager.id)
    overrides = {
        Area.USERS: (OverrideKind.GRANT, Level.READ),
        Area.SERVICES: (OverrideKind.RESTRICT, Level.NONE),
    }
    await change_user(
        acme.admin.actor, acme.user.id, UserChanges(overrides=overrides), base_url=BASE_URL
    )
    await sign_in(client, acme.user.email)
    page = await client.get(f"/settings/users/{acme.manager.id}")
    assert page.status_code == 200
    assert "Leeds broadband" not in page.text and "No services." not in page.text
    assert 'id="user-services"' not in page.text


async def test_a_user_who_sees_only_their_own_services_sees_only_those_listed(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await add_service(acme, "Leeds broadband", acme.manager.id)
    await change_user(
        acme.admin.actor,
        acme.user.id,
        UserChanges(overrides={Area.USERS: (OverrideKind.GRANT, Level.READ)}),
        base_url=BASE_URL,
    )
    await sign_in(client, acme.user.email)
    page = (await client.get(f"/settings/users/{acme.manager.id}")).text
    # The service scope applies here too: a scope "assigned" viewer sees none of another's.
    assert "Leeds broadband" not in page and "No services." in page
