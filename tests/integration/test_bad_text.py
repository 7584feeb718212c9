"""Control characters and look-alike addresses are refused at every door with a field message,
and nothing is stored (forms and JSON alike)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.orders.tables import Order
from portal.text import CONTROL_MESSAGE
from portal.users.emails import MIXED_SCRIPTS
from portal.users.tables import User
from tests.conftest import Tenant, csrf_header, sign_in, with_csrf


async def post_json(client: AsyncTestClient[Litestar], url: str, body: Any) -> Any:
    return await client.post(url, json=body, headers=csrf_header(client))


async def test_a_nul_byte_in_a_name_is_refused_and_nothing_is_stored(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    users = await User.count()
    invite = {"full_name": "Nul\u0000Name", "email": "nul@acme.example", "tier": "user"}
    refused = await post_json(client, "/api/v1/users/invitations", invite)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "full_name", "message": CONTROL_MESSAGE}
    ]
    page = await client.post(
        "/settings/users/invite",
        data=with_csrf(client, **invite),
    )
    assert page.status_code == 422
    assert f'<p class="field-error" id="full_name-error">{CONTROL_MESSAGE}</p>' in page.text
    assert 'value="Nul' in page.text  # the form keeps what was typed
    assert await User.count() == users


async def test_a_look_alike_address_is_refused(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    users = await User.count()
    invite = {"full_name": "Not the admin", "email": "\u0430dmin@acme.example", "tier": "admin"}
    refused = await post_json(client, "/api/v1/users/invitations", invite)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "email", "message": MIXED_SCRIPTS}]
    assert await User.count() == users
    composed = await post_json(
        client,
        "/api/v1/users/invitations",
        {"full_name": "René", "email": "Rene\u0301@acme.example", "tier": "user"},
    )
    assert composed.status_code == 201
    stored = await User.select(User.email).where(User.id == composed.json()["user_id"]).first()
    assert stored == {"email": "ren\u00e9@acme.example"}


async def test_notes_keep_their_lines_but_not_control_characters(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    order = {"type": "new", "item": "firewall", "notes": "rack 4\x00"}
    refused = await post_json(client, "/api/v1/orders", order)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "notes", "message": CONTROL_MESSAGE}]
    assert await Order.count() == 0
    kept = await post_json(client, "/api/v1/orders", {**order, "notes": "rack 4\nshelf 2"})
    assert kept.status_code == 201, kept.text
    assert await Order.count() == 1


async def test_the_api_reads_only_what_it_declares(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    order = '{"type": "new", "item": "firewall"}'
    plain = await client.post(
        "/api/v1/orders",
        content=order,
        headers={**csrf_header(client), "content-type": "text/plain"},
    )
    assert plain.status_code == 415
    assert plain.json()["error"]["message"] == (
        "Send the body as JSON, with Content-Type: application/json."
    )
    missing = await client.post("/api/v1/orders", headers=csrf_header(client))
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "The request body is missing: send a JSON object."
    loose = await post_json(
        client, "/api/v1/orders", {"type": "new", "item": "firewall", "quantity": "3"}
    )
    assert loose.status_code == 422
    assert loose.json()["error"]["details"] == [
        {"field": "quantity", "message": "Expected `int`, got `str`"}
    ]
    assert await Order.count() == 0
    exact = await post_json(
        client, "/api/v1/orders", {"type": "new", "item": "firewall", "quantity": 3}
    )
    assert exact.status_code == 201
