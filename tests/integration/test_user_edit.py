"""Editing a user: profile, tier, roles and overrides, with the owner and last admin kept safe."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.permissions.model import Area
from portal.permissions.service import create_policy, create_role
from portal.users.tables import User
from tests.conftest import BASE_URL, Tenant, sign_in


def form(**fields: Any) -> dict[str, Any]:
    base = {
        "full_name": "Acme manager",
        "display_name": "",
        "locale": "en-GB",
        "time_zone": "Europe/London",
        "tier": "manager",
        "reason": "",
        "detail": "",
    }
    return {**base, **fields}


async def save(client: AsyncTestClient[Litestar], user_id: object, fields: dict[str, Any]) -> Any:
    return await client.post(
        f"/settings/users/{user_id}/edit",
        data={**fields, "_csrf_token": client.cookies["csrftoken"]},
        follow_redirects=False,
    )


async def test_an_edit_applies_on_the_next_request_and_is_logged_with_its_reason(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    async with AsyncTestClient(app, base_url=BASE_URL) as manager:
        await sign_in(manager, acme.manager.email)
        await sign_in(client, acme.admin.email)
        page = await client.get(f"/settings/users/{acme.manager.id}/edit")
        assert page.status_code == 200 and 'value="Acme manager"' in page.text
        response = await save(
            client,
            acme.manager.id,
            form(
                display_name="Max",
                roles=str(role),
                override_users="grant:read",
                override_orders="restrict:read",
                reason="joined the audit team",
            ),
        )
        assert response.status_code == 303
        me = (await manager.get("/api/v1/me")).json()
        assert me["display_name"] == "Max" and me["roles"] == ["Auditor"]
        levels = me["permissions"]
        assert (levels["activity_log"], levels["users"], levels["orders"]) == (
            "read",
            "read",
            "read",
        )
        event = (
            await ActivityEvent.select(ActivityEvent.data, ActivityEvent.reason)
            .where(ActivityEvent.action == "user.changed")
            .output(load_json=True)
            .first()
        )
        assert event is not None and event["reason"] == "joined the audit team"
        assert event["data"]["before"]["display_name"] is None
        assert event["data"]["after"]["display_name"] == "Max"
        assert event["data"]["after"]["override.orders"] == ["restrict:read"]
        # A new permission level ends the user's sessions.
        await save(client, acme.manager.id, form(tier="user", display_name="Max", roles=str(role)))
        assert (await manager.get("/api/v1/me")).status_code == 401


async def test_bad_edits_keep_the_input_explain_and_change_nothing(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    before = await User.select().where(User.id == acme.manager.id).first()
    cases = [
        (form(full_name="x" * 10_000), "Use 1 to 200 characters."),
        (form(time_zone="Mars/Olympus"), "Choose a time zone from the list"),
        (form(locale="english please"), "Choose one of the languages offered"),
        (form(locale="xx-XX"), "Choose one of the languages offered"),
        (form(tier="owner", display_name="Keep me"), "Choose admin, manager or user."),
        (form(override_orders="grant:approve"), "Choose an option from the list."),
        (form(roles="not-a-uuid"), "Choose roles from the list."),
    ]
    for fields, message in cases:
        response = await save(client, acme.manager.id, fields)
        assert response.status_code == 422, fields
        assert message in response.text
    kept = await save(client, acme.manager.id, form(tier="owner", display_name="Keep me"))
    assert 'value="Keep me"' in kept.text
    assert await User.select().where(User.id == acme.manager.id).first() == before
    assert (await save(client, globex.manager.id, form())).status_code == 404
    assert (await client.get(f"/settings/users/{globex.manager.id}/edit")).status_code == 404


async def test_the_owner_and_the_last_admin_keep_their_level(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    alone = await save(client, acme.admin.id, form(full_name="Acme Admin", tier="manager"))
    assert (
        alone.status_code == 422
        and "last active admin of the organisation keeps the admin level" in alone.text
    )
    await User.update({User.tier: "admin"}).where(User.id == acme.manager.id)
    async with AsyncTestClient(app, base_url=BASE_URL) as other_admin:
        await sign_in(other_admin, acme.manager.email)
        demote_owner = await save(
            other_admin, acme.admin.id, form(full_name="Acme Admin", tier="user")
        )
        assert demote_owner.status_code == 422 and "owner" in demote_owner.text
    assert await User.select(User.tier).where(User.id == acme.admin.id).first() == {"tier": "admin"}


async def test_the_activity_log_names_who_acted_on_whom_and_what_changed(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    changed = await save(client, acme.user.id, form(full_name="Acme user", tier="manager"))
    assert changed.status_code == 303
    log = (await client.get("/settings/activity")).text
    row = re.search(
        r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>User changed</td>(.*?)</tr>", log, re.S
    )
    assert row is not None, log
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[0] == f'<a href="/settings/users/{acme.admin.id}">Acme Admin</a>'
    assert f'<a href="/settings/users/{acme.user.id}">Acme user ({acme.user.email})</a>' in cells[1]
    assert '<span class="change">tier: user → manager</span>' in cells[2]
    # An account made by the operator's command line was made by nobody signed in.
    created = re.search(r"<td>User created</td>\s*<td>(.*?)</td>", log, re.S)
    assert created is not None and created.group(1) == "The portal"


class FormControls(HTMLParser):
    """The selects of a page (id, name and chosen options) and the text of each <label for>."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, str] = {}
        self._label: str | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self._label = str(found["for"])
            self.labels[self._label] = ""
        elif tag == "select":
            self._select = {**found, "options": [], "selected": []}
            self.selects[str(found.get("name"))] = self._select
        elif tag == "option" and self._select is not None:
            self._select["options"].append(found.get("value"))
            if "selected" in found:
                self._select["selected"].append(found.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data


def controls(html: str) -> FormControls:
    parser = FormControls()
    parser.feed(html)
    return parser


async def test_language_and_time_zone_are_chosen_from_lists_and_overrides_are_labelled(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    page = controls((await client.get(f"/settings/users/{acme.manager.id}/edit")).text)
    zones = page.selects["time_zone"]
    assert "Europe/London" in zones["options"] and "Pacific/Auckland" in zones["options"]
    assert zones["selected"] == ["Europe/London"]
    assert page.selects["locale"]["selected"] == ["en-GB"]
    assert "de-DE" in page.selects["locale"]["options"]
    # Each override select has a label naming its area that a screen reader reads.
    for area in Area:
        select = page.selects[f"override_{area.value}"]
        name = " ".join(page.labels[select["id"]].split())
        assert name == f"{area.value.replace('_', ' ').capitalize()}: override", area
    chosen = await save(client, acme.manager.id, form(locale="de-DE", time_zone="Asia/Kolkata"))
    assert chosen.status_code == 303
    stored = await User.select(User.locale, User.time_zone).where(User.id == acme.manager.id)
    assert stored == [{"locale": "de-DE", "time_zone": "Asia/Kolkata"}]
    refused = await save(client, acme.manager.id, form(time_zone="Mars/Olympus"))
    assert refused.status_code == 422
    again = controls(refused.text)
    # The unknown zone is not silently replaced by the first in the list.
    assert again.selects["time_zone"]["selected"] == [""]
    assert 'aria-describedby="time_zone-error"' in refused.text
    assert await User.select(User.time_zone).where(User.id == acme.manager.id) == [
        {"time_zone": "Asia/Kolkata"}
    ]
