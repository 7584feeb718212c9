"""The embedded default's mail catcher: every email, for whoever sits at the machine (a reset
link is for someone who cannot sign in), and an .eml file of each under the data directory;
from another machine, or with SMTP or Redis configured, there is no such page."""

from __future__ import annotations

import dataclasses
import email
import re
from email import policy
from typing import Any

import httpx
from litestar import Litestar

from portal.app import create_app
from portal.mail.delivery import deliver
from portal.mail.tables import OutboundEmail
from portal.settings import Settings
from tests.conftest import BASE_URL, Tenant


def from_address(app: Litestar, host: str) -> httpx.AsyncClient:
    """A client whose requests come from `host`: the app itself, only the peer address set."""

    inner: Any = app

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await inner({**scope, "client": (host, 50000)}, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url=BASE_URL)


async def request_reset(client: httpx.AsyncClient, address: str) -> None:
    await client.get("/forgot-password")
    sent = await client.post(
        "/forgot-password", data={"email": address, "_csrf_token": client.cookies["csrftoken"]}
    )
    assert sent.status_code == 200


async def test_the_embedded_outbox_shows_every_email_only_on_this_machine(
    settings: Settings, acme: Tenant, globex: Tenant
) -> None:
    embedded = dataclasses.replace(settings, redis_url=None, smtp_url=None)
    app = create_app(embedded)
    async with from_address(app, "127.0.0.1") as here:
        await request_reset(here, acme.admin.email)
        await request_reset(here, globex.admin.email)
        rows = await OutboundEmail.select(OutboundEmail.id, OutboundEmail.text_body)
        assert len(rows) == 2
        for row in rows:
            assert await deliver(row["id"], embedded) == "kept locally"
        outbox = await here.get("/dev/outbox")  # signed out: the reset is for who cannot sign in
        assert outbox.status_code == 200
        links = re.findall(r"/reset-password/[A-Za-z0-9_-]+", outbox.text)
        assert sorted(links) == sorted(
            re.findall(r"/reset-password/[A-Za-z0-9_-]+", "".join(r["text_body"] for r in rows))
        )
        assert len(links) == 2
        assert acme.admin.email in outbox.text and globex.admin.email in outbox.text
    for row in rows:
        eml = embedded.data_dir / "outbox" / f"{row['id']}.eml"
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        assert message["Message-ID"] == f"<{row['id']}@portal.invalid>"
        body = message.get_body(("plain",))
        assert body is not None and "/reset-password/" in body.get_content()
    async with from_address(app, "10.0.0.7") as elsewhere:
        assert (await elsewhere.get("/dev/outbox")).status_code == 404
    async with from_address(app, "::1") as here_v6:
        assert (await here_v6.get("/dev/outbox")).status_code == 200
    for configured in (
        dataclasses.replace(embedded, smtp_url="smtp://127.0.0.1:2525"),
        dataclasses.replace(embedded, redis_url="redis://127.0.0.1:6379/15"),
    ):
        async with from_address(create_app(configured), "127.0.0.1") as here:
            assert (await here.get("/dev/outbox")).status_code == 404
