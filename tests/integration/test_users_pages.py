"""Inviting, accepting and the user lifecycle through the pages, as browsers send them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.invitations.tables import Invitation
from portal.mail.delivery import deliver
from portal.mail.tables import OutboundEmail
from portal.settings import Settings
from portal.users.tables import User
from tests.conftest import BASE_URL, Tenant, sign_in

GOOD_PASSWORD = "seven quiet lanterns over the orchard"


async def post_form(client: AsyncTestClient[Litestar], url: str, **fields: Any) -> Any:
    return await client.post(
        url, data={**fields, "_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )


async def invite_through_form(client: AsyncTestClient[Litestar], email: str, **extra: Any) -> Any:
    fields = {"full_name": "Grace Hopper", "email": email, "tier": "manager", "send_now": "on"}
    return await post_form(client, "/settings/users/invite", **{**fields, **extra})


async def delivered_links(settings: Settings) -> list[str]:
    for row in await OutboundEmail.select(OutboundEmail.id).where(
        OutboundEmail.status == "pending"
    ):
        await deliver(row["id"], settings)
    bodies = await OutboundEmail.select(OutboundEmail.text_body).order_by(OutboundEmail.created_at)
    return [re.findall(r"/invitations/(\S+)", b["text_body"])[0] for b in bodies]


async def test_invite_accept_and_sign_in(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant, settings: Settings
) -> None:
    await sign_in(client, acme.admin.email)
    response = await invite_through_form(client, "grace@acme.example")
    assert response.status_code == 303
    listing = await client.get(response.headers["location"])
    assert "Invitation sent." in listing.text and "Invited (pending)" in listing.text
    (token,) = await delivered_links(settings)

    async with AsyncTestClient(app, base_url=BASE_URL) as grace:
        page = await grace.get(f"/invitations/{token}")
        assert page.status_code == 200
        assert "Join Acme" in page.text and "Acme Admin invited you" in page.text
        weak = await post_form(
            grace, f"/invitations/{token}", password="short", password_again="short"
        )
        assert weak.status_code == 422 and "Use at least 15 characters." in weak.text
        mismatch = await post_form(
            grace, f"/invitations/{token}", password=GOOD_PASSWORD, password_again="other"
        )
        assert mismatch.status_code == 422 and "not the same" in mismatch.text
        accepted = await post_form(
            grace, f"/invitations/{token}", password=GOOD_PASSWORD, password_again=GOOD_PASSWORD
        )
        assert accepted.status_code == 303
        me = (await grace.get("/api/v1/me")).json()
        assert me["email"] == "grace@acme.example" and me["tier"] == "manager"
        # A double click from the same browser lands on the dashboard, not an error.
        again = await post_form(
            grace, f"/invitations/{token}", password=GOOD_PASSWORD, password_again=GOOD_PASSWORD
        )
        assert again.status_code == 303 and again.headers["location"] == "/"
    async with AsyncTestClient(app, base_url=BASE_URL) as stranger:
        replay = await stranger.get(f"/invitations/{token}")
        assert replay.status_code == 409 and "already been used" in replay.text
        assert (await sign_in(stranger, "grace@acme.example", GOOD_PASSWORD)).status_code == 303
    assert await User.count().where(User.email == "grace@acme.example") == 1


async def test_resent_cancelled_expired_and_unknown_links_each_say_so(
    client: AsyncTestClient[Litestar], acme: Tenant, settings: Settings
) -> None:
    await sign_in(client, acme.admin.email)
    await invite_through_form(client, "alan@acme.example")
    user = await User.select(User.id).where(User.email == "alan@acme.example").first()
    assert user is not None
    resent = await post_form(client, f"/settings/users/{user['id']}/send-invitation")
    assert resent.status_code == 303
    first, second = await delivered_links(settings)
    old = await client.get(f"/invitations/{first}")
    assert old.status_code == 410 and "A newer invitation was sent" in old.text
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=73)):
        expired = await client.get(f"/invitations/{second}")
        assert expired.status_code == 410 and "has expired" in expired.text
        assert "Acme Admin" in expired.text  # whom to ask
        # 73 hours on, the admin's own session has expired too.
        assert (await client.get("/settings/users", follow_redirects=False)).status_code == 303
        await sign_in(client, acme.admin.email)
        listing = await client.get("/settings/users?status=invited_expired")
        assert "alan@acme.example" in listing.text
    cancelled = await post_form(client, f"/settings/users/{user['id']}/cancel-invitation")
    assert cancelled.status_code == 303
    page = await client.get(f"/invitations/{second}")
    assert page.status_code == 410 and "was cancelled" in page.text
    pending = await client.get("/settings/users?status=invited_pending")
    assert "alan@acme.example" not in pending.text
    unknown = await client.get("/invitations/" + "x" * 43)
    assert unknown.status_code == 404 and "not valid" in unknown.text
    huge = await client.get("/invitations/" + "x" * 5000)
    assert huge.status_code == 404


async def test_invite_form_keeps_input_and_explains_each_problem(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    before = await User.count()
    taken = await invite_through_form(client, globex.manager.email.upper(), full_name="Keep Me")
    assert taken.status_code == 422
    assert "This email is already in use." in taken.text
    assert 'value="Keep Me"' in taken.text
    long_name = await invite_through_form(client, "new@acme.example", full_name="n" * 10_000)
    assert long_name.status_code == 422 and "at most 200 characters" in long_name.text
    bad = await invite_through_form(client, "not-an-email", tier="emperor")
    assert bad.status_code == 422
    assert "not a valid email address" in bad.text and "Choose admin, manager or user." in bad.text
    foreign_role = await invite_through_form(client, "new@acme.example", roles="not-a-uuid")
    assert foreign_role.status_code == 422
    assert await User.count() == before
    assert await OutboundEmail.count() == 0


async def test_invite_later_then_send_from_the_users_page(
    client: AsyncTestClient[Litestar], acme: Tenant, settings: Settings
) -> None:
    await sign_in(client, acme.admin.email)
    later = await post_form(
        client, "/settings/users/invite", full_name="Lin", email="lin@acme.example", tier="user"
    )
    assert later.headers["location"] == "/settings/users?done=invited_later"
    assert await OutboundEmail.count() == 0
    user = await User.select(User.id).where(User.email == "lin@acme.example").first()
    assert user is not None
    page = await client.get(f"/settings/users/{user['id']}")
    assert "Send invitation" in page.text and "Resend invitation" not in page.text
    await post_form(client, f"/settings/users/{user['id']}/send-invitation")
    assert len(await delivered_links(settings)) == 1


async def test_deactivation_ends_access_on_the_next_request_and_reactivation_restores_it(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    async with AsyncTestClient(app, base_url=BASE_URL) as manager:
        await sign_in(manager, acme.manager.email)
        assert (await manager.get("/api/v1/me")).status_code == 200
        await sign_in(client, acme.admin.email)
        done = await post_form(
            client, f"/settings/users/{acme.manager.id}/deactivate", reason="left the company"
        )
        assert done.status_code == 303
        assert (await manager.get("/api/v1/me")).status_code == 401
        assert (await sign_in(manager, acme.manager.email)).status_code == 401
        event = (
            await ActivityEvent.select(ActivityEvent.data)
            .where(ActivityEvent.action == "user.deactivated")
            .output(load_json=True)
            .first()
        )
        assert event is not None and event["data"]["reason"] == "left the company"
        restored = await post_form(client, f"/settings/users/{acme.manager.id}/reactivate")
        assert restored.status_code == 303
        assert (await sign_in(manager, acme.manager.email)).status_code == 303
        assert (await manager.get("/api/v1/me")).json()["id"] == str(acme.manager.id)


async def test_owner_and_last_admin_are_protected(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    # The owner is the only admin: deactivating themselves would leave nobody in charge.
    refused = await post_form(client, f"/settings/users/{acme.admin.id}/deactivate")
    assert refused.status_code == 422 and "last active admin" in refused.text
    await User.update({User.tier: "admin"}).where(User.id == acme.manager.id)
    async with AsyncTestClient(client.app, base_url=BASE_URL) as other_admin:
        await sign_in(other_admin, acme.manager.email)
        owner = await post_form(other_admin, f"/settings/users/{acme.admin.id}/deactivate")
        assert owner.status_code == 422 and "owner" in owner.text
    assert await User.select(User.status).where(User.id == acme.admin.id).first() == {
        "status": "active"
    }


async def test_another_organisations_users_are_not_found(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    target = globex.user.id
    assert (await client.get(f"/settings/users/{target}")).status_code == 404
    for action in ("send-invitation", "cancel-invitation", "deactivate", "reactivate"):
        response = await post_form(client, f"/settings/users/{target}/{action}")
        assert response.status_code == 404, action
    listing = await client.get("/settings/users")
    assert globex.user.email not in listing.text
    assert await User.select(User.status).where(User.id == target).first() == {"status": "active"}
    assert await Invitation.count() == 0


async def test_users_list_searches_filters_and_pages_with_a_cursor(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await User.insert(
        *[
            User(
                organisation=acme.id,
                email=f"person{i:03}@acme.example",
                full_name=f"Person {i:03}",
                tier="user",
                status="active",
            )
            for i in range(120)
        ]
    )
    await sign_in(client, acme.admin.email)
    seen: list[str] = []
    url = "/settings/users?q=person&sort=email"
    while url:
        page = await client.get(url)
        assert page.status_code == 200
        seen += re.findall(r"person\d{3}@acme\.example", page.text)
        found = re.search(r'href="(/settings/users\?[^"]*after=[^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == sorted(f"person{i:03}@acme.example" for i in range(120))
    managers = await client.get("/settings/users?tier=manager")
    assert acme.manager.email in managers.text and acme.user.email not in managers.text
    bad = await client.get("/settings/users?status=sleeping&after=%%%")
    assert bad.status_code == 400 and "Unknown status filter" in bad.text
    bad_cursor = await client.get("/settings/users?after=bm90LWpzb24")
    assert bad_cursor.status_code == 400 and "start from the first page" in bad_cursor.text


async def test_deactivating_asks_first(client: AsyncTestClient[Litestar], acme: Tenant) -> None:
    await sign_in(client, acme.admin.email)
    page = await client.get(f"/settings/users/{acme.user.id}")
    assert (
        'data-confirm="Deactivate Acme user? They are signed out everywhere and their API access '
        'ends at once."' in page.text
    )
    assert '<script src="/static/portal.js" defer></script>' in page.text
    script = await client.get("/static/portal.js")
    assert script.status_code == 200 and "window.confirm" in script.text


async def test_the_page_offers_deactivation_only_where_it_would_be_allowed(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    own = await client.get(f"/settings/users/{acme.admin.id}")
    assert "/deactivate" not in own.text
    assert (
        '<p class="muted" id="no-deactivate">The last active admin of the organisation cannot '
        "be deactivated.</p>" in own.text
    )
    assert (
        f"/settings/users/{acme.user.id}/deactivate"
        in (await client.get(f"/settings/users/{acme.user.id}")).text
    )
    await User.update({User.tier: "admin"}).where(User.id == acme.manager.id)
    async with AsyncTestClient(app, base_url=BASE_URL) as other_admin:
        await sign_in(other_admin, acme.manager.email)
        owner = await other_admin.get(f"/settings/users/{acme.admin.id}")
        assert "/deactivate" not in owner.text
        assert "The owner of the organisation cannot be deactivated by others." in owner.text
    # With a second admin, the owner may leave.
    assert (
        f"/settings/users/{acme.admin.id}/deactivate"
        in (await client.get(f"/settings/users/{acme.admin.id}")).text
    )
