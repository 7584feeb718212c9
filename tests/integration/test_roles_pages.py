"""Settings → Roles through the pages, as browsers send the forms: policies, custom roles,
their effective permissions, and who may change them."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.tables import ActivityEvent
from portal.permissions import service
from portal.permissions.model import Area
from portal.permissions.service import create_policy, create_role
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy
from portal.users.service import UserChanges, change_user
from tests.conftest import BASE_URL, Tenant, sign_in


def policy_form(name: str, description: str = "", **levels: str) -> dict[str, Any]:
    """Every field of the policy form, as a browser sends it: one select per area."""
    fields: dict[str, Any] = {f"grants.{area.value}": "none" for area in Area}
    fields.update({f"grants.{area}": level for area, level in levels.items()})
    return {**fields, "name": name, "description": description}


async def post_form(client: AsyncTestClient[Litestar], url: str, fields: dict[str, Any]) -> Any:
    return await client.post(
        url, data={**fields, "_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )


def created_id(response: Any) -> UUID:
    assert response.status_code == 303, response.text
    found = re.fullmatch(
        r"/settings/(?:policies|roles)/([0-9a-f-]{36})\?notice=created",
        response.headers["location"],
    )
    assert found, response.headers["location"]
    return UUID(found.group(1))


def selected_level(html: str, area: str) -> str:
    select = re.search(rf'<select id="grant-{area}".*?</select>', html, re.S)
    assert select, area
    chosen = re.search(r'<option value="(\w+)" selected>', select.group(0))
    assert chosen, area
    return chosen.group(1)


async def stored_grants(policy_id: UUID) -> dict[str, str]:
    rows = await PolicyGrant.select(PolicyGrant.area, PolicyGrant.level).where(
        PolicyGrant.policy == policy_id
    )
    return {row["area"]: row["level"] for row in rows}


async def test_admin_creates_and_edits_a_policy_through_the_form(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    roles = await client.get("/settings/roles")
    assert (
        'href="/settings/policies/new"' in roles.text and 'href="/settings/roles/new"' in roles.text
    )
    form = await client.get("/settings/policies/new")
    assert form.status_code == 200
    assert 'name="_csrf_token"' in form.text
    # Only the levels each area knows: approve for approvals, never for orders.
    approvals = re.search(r'<select id="grant-approvals".*?</select>', form.text, re.S)
    orders = re.search(r'<select id="grant-orders".*?</select>', form.text, re.S)
    assert approvals and 'value="approve"' in approvals.group(0)
    assert orders and 'value="approve"' not in orders.group(0)

    created = await post_form(
        client,
        "/settings/policies",
        policy_form("Auditors", "Reads the log", activity_log="read", approvals="approve"),
    )
    policy_id = created_id(created)
    assert await stored_grants(policy_id) == {"activity_log": "read", "approvals": "approve"}
    page = await client.get(created.headers["location"])
    assert page.status_code == 200 and "Policy created." in page.text
    assert selected_level(page.text, "activity_log") == "read"
    assert selected_level(page.text, "approvals") == "approve"
    assert selected_level(page.text, "orders") == "none"
    assert "Reads the log" in page.text

    saved = await post_form(
        client,
        f"/settings/policies/{policy_id}",
        policy_form("Log readers", "Reads and exports", activity_log="full", users="read"),
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/settings/policies/{policy_id}?notice=saved"
    policy = await PermissionPolicy.select().where(PermissionPolicy.id == policy_id).first()
    assert policy is not None
    assert (policy["name"], policy["description"]) == ("Log readers", "Reads and exports")
    assert await stored_grants(policy_id) == {"activity_log": "full", "users": "read"}
    events = (
        await ActivityEvent.select(ActivityEvent.action, ActivityEvent.data, ActivityEvent.ip)
        .where(ActivityEvent.action.like("policy.%"))
        .order_by(ActivityEvent.occurred_at)
        .output(load_json=True)
    )
    assert [e["action"] for e in events] == ["policy.created", "policy.changed"]
    assert events[1]["data"]["before"]["grants"] == {"activity_log": "read", "approvals": "approve"}
    assert events[1]["data"]["after"]["name"] == "Log readers"
    assert all(e["ip"] for e in events)


async def test_admin_creates_a_role_and_sees_its_effective_permissions(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    readers = await create_policy(acme.admin.actor, "Readers", {"orders": "read", "users": "read"})
    buyers = await create_policy(acme.admin.actor, "Buyers", {"orders": "full"})
    await sign_in(client, acme.admin.email)
    form = await client.get("/settings/roles/new")
    assert form.status_code == 200 and "Readers" in form.text and "Buyers" in form.text
    created = await post_form(
        client,
        "/settings/roles",
        {
            "name": "Purchaser",
            "description": "Buys things",
            "policy_ids": [str(readers), str(buyers)],
        },
    )
    role_id = created_id(created)
    page = await client.get(f"/settings/roles/{role_id}")
    assert page.status_code == 200
    effective = effective_levels(page.text)
    # The highest level each area gets from the role's policies.
    assert effective["Orders"] == "full" and effective["Users"] == "read"
    assert effective["Billing"] == "none"

    saved = await post_form(
        client,
        f"/settings/roles/{role_id}",
        {"name": "Reader", "description": "", "policy_ids": [str(readers)]},
    )
    assert saved.status_code == 303
    edited = await client.get(saved.headers["location"])
    assert "Role saved." in edited.text
    effective = effective_levels(edited.text)
    assert effective["Orders"] == "read"
    links = await RolePolicy.select(RolePolicy.policy).where(RolePolicy.role == role_id)
    assert [link["policy"] for link in links] == [readers]
    roles = await client.get("/settings/roles")
    assert f'href="/settings/roles/{role_id}"' in roles.text and "Reader" in roles.text


def effective_levels(html: str) -> dict[str, str]:
    section = re.search(r'<section class="card" id="effective".*?</section>', html, re.S)
    assert section
    return dict(re.findall(r"<tr><td>([^<]+)</td><td><span[^>]*>(\w+)</span>", section.group(0)))


async def test_the_role_form_previews_the_ticked_policies(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    ours = await create_policy(acme.admin.actor, "Ours", {"billing": "read"})
    theirs = await create_policy(globex.admin.actor, "Theirs", {"users": "full"})
    await sign_in(client, acme.admin.email)
    form = await client.get("/settings/roles/new")
    assert 'hx-get="/settings/roles/preview"' in form.text
    preview = await client.get(
        "/settings/roles/preview", params={"policy_ids": [str(ours), str(theirs)]}
    )
    assert preview.status_code == 200
    levels = effective_levels(preview.text)
    # Another organisation's policy adds nothing, exactly like one that does not exist.
    assert levels["Billing"] == "read" and levels["Users"] == "none"
    too_many = await client.get(
        "/settings/roles/preview", params={"policy_ids": [str(uuid4()) for _ in range(101)]}
    )
    assert too_many.status_code == 400
    assert "A role can use at most 100 policies." in too_many.text


async def test_a_policy_edit_changes_a_holders_access_on_their_next_request(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    await change_user(
        acme.admin.actor, acme.user.id, UserChanges(role_ids=[role]), base_url=BASE_URL
    )
    await sign_in(client, acme.admin.email)
    async with AsyncTestClient(app, base_url=BASE_URL) as holder:
        await sign_in(holder, acme.user.email)
        assert (await holder.get("/settings/activity")).status_code == 200

        taken = await post_form(client, f"/settings/policies/{policy}", policy_form("Auditors"))
        assert taken.status_code == 303
        assert (await holder.get("/settings/activity")).status_code == 403

        given = await post_form(
            client, f"/settings/policies/{policy}", policy_form("Auditors", activity_log="read")
        )
        assert given.status_code == 303
        assert (await holder.get("/settings/activity")).status_code == 200

        # Taking the policy out of the role works the same way.
        emptied = await post_form(client, f"/settings/roles/{role}", {"name": "Auditor"})
        assert emptied.status_code == 303
        assert (await holder.get("/settings/activity")).status_code == 403


async def test_manager_and_user_get_403_on_every_change(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    role = await create_role(acme.admin.actor, "Auditor", [policy])
    for member in (acme.manager, acme.user):
        async with AsyncTestClient(app, base_url=BASE_URL) as other:
            await sign_in(other, member.email)
            for url in ("/settings/roles", "/settings/policies/new", "/settings/roles/new"):
                assert (await other.get(url)).status_code == 403, url
            attempts = [
                ("/settings/policies", policy_form("Mine", users="full")),
                (f"/settings/policies/{policy}", policy_form("Mine", users="full")),
                ("/settings/roles", {"name": "Mine", "policy_ids": [str(policy)]}),
                (f"/settings/roles/{role}", {"name": "Mine"}),
            ]
            for url, fields in attempts:
                assert (await post_form(other, url, fields)).status_code == 403, url
    assert await PermissionPolicy.count() == 1 and await Role.count() == 1
    assert await stored_grants(policy) == {"activity_log": "read"}
    assert [r["name"] for r in await Role.select(Role.name)] == ["Auditor"]
    assert await RolePolicy.count() == 1


async def test_roles_read_alone_shows_everything_read_only(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Role readers", {"roles": "read"})
    role = await create_role(acme.admin.actor, "Role reader", [policy])
    await change_user(
        acme.admin.actor, acme.manager.id, UserChanges(role_ids=[role]), base_url=BASE_URL
    )
    await sign_in(client, acme.manager.email)
    roles = await client.get("/settings/roles")
    assert roles.status_code == 200
    assert "/settings/policies/new" not in roles.text and "/settings/roles/new" not in roles.text
    for url in (f"/settings/policies/{policy}", f"/settings/roles/{role}"):
        page = await client.get(url)
        assert page.status_code == 200
        assert '<fieldset class="plain" disabled>' in page.text
        assert 'type="submit" class="primary"' not in page.text
    refused = await post_form(
        client, f"/settings/policies/{policy}", policy_form("X", roles="full")
    )
    assert refused.status_code == 403
    assert await stored_grants(policy) == {"roles": "read"}


async def test_another_organisations_ids_are_not_found_and_nothing_changes(
    client: AsyncTestClient[Litestar], acme: Tenant, globex: Tenant
) -> None:
    theirs = await create_policy(globex.admin.actor, "Theirs", {"users": "read"})
    their_role = await create_role(globex.admin.actor, "Their role", [theirs])
    mine = await create_policy(acme.admin.actor, "Mine", {"orders": "read"})
    await sign_in(client, acme.admin.email)
    unknown = uuid4()
    for kind, foreign in (("policies", theirs), ("roles", their_role)):
        for target in (foreign, unknown):
            url = f"/settings/{kind}/{target}"
            assert (await client.get(url)).status_code == 404, url
        fields = policy_form("Stolen", users="full") if kind == "policies" else {"name": "Stolen"}
        answers = [
            await post_form(client, f"/settings/{kind}/{t}", fields) for t in (foreign, unknown)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        # Exactly the same answer: nothing tells that the id exists elsewhere.
        assert answers[0].text.replace(str(foreign), "") == answers[1].text.replace(
            str(unknown), ""
        )

    # Ticking another organisation's policy is refused like ticking one that does not exist.
    refused = [
        await post_form(
            client, "/settings/roles", {"name": "Stolen", "policy_ids": [str(mine), str(p)]}
        )
        for p in (theirs, unknown)
    ]
    assert [r.status_code for r in refused] == [422, 422]
    assert all("One of the chosen policies does not exist." in r.text for r in refused)

    assert await stored_grants(theirs) == {"users": "read"}
    names = {r["name"] for r in await Role.select(Role.name)}
    assert names == {"Their role"}
    assert {p["name"] for p in await PermissionPolicy.select(PermissionPolicy.name)} == {
        "Theirs",
        "Mine",
    }


async def test_bad_policy_input_is_explained_next_to_the_field_and_kept(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    existing = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    await sign_in(client, acme.admin.email)
    cases = [
        (policy_form("", "kept description", users="full"), "name", "Enter a name."),
        (policy_form("x" * 10_000, users="full"), "name", "at most 100 characters"),
        (policy_form(" Auditors ", users="full"), "name", "already exists"),
        (policy_form("Buyers", orders="approve"), "grant-orders", "goes up to"),
        (policy_form("Buyers", users="everything"), "grant-users", "Unknown level"),
        (policy_form("Buyers", "d" * 501), "description", "at most 500 characters"),
        (policy_form("Bad\x00name"), "name", "control characters"),
    ]
    for fields, field, message in cases:
        response = await post_form(client, "/settings/policies", fields)
        assert response.status_code == 422, (field, message)
        # The message sits right under its field, which says it is invalid.
        assert re.search(
            rf'<p class="field-error" id="{field}-error">[^<]*{message}', response.text
        ), (field, message, response.text)
        assert f'aria-describedby="{field}-error"' in response.text
        if fields["description"]:
            assert fields["description"] in response.text
        if fields["grants.users"] != "everything":  # no option to keep for a made-up level
            assert selected_level(response.text, "users") == fields["grants.users"]
    long_name = await post_form(client, "/settings/policies", policy_form("y" * 10_000))
    assert 'value="' + "y" * 10_000 + '"' in long_name.text
    assert await PermissionPolicy.count() == 1

    # An edit refused changes nothing either.
    refused = await post_form(
        client, f"/settings/policies/{existing}", policy_form("", users="full")
    )
    assert refused.status_code == 422 and selected_level(refused.text, "users") == "full"
    assert await stored_grants(existing) == {"activity_log": "read"}
    assert await ActivityEvent.count().where(ActivityEvent.action == "policy.changed") == 0


async def test_bad_role_input_is_explained_and_nothing_is_created(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    policy = await create_policy(acme.admin.actor, "Auditors", {"activity_log": "read"})
    await create_role(acme.admin.actor, "Auditor", [policy])
    await sign_in(client, acme.admin.email)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "", "description": "kept", "policy_ids": [str(policy)]}, "name", "Enter a name."),
        ({"name": "Auditor", "policy_ids": [str(policy)]}, "name", "already exists"),
        ({"name": "z" * 10_000}, "name", "at most 100 characters"),
        ({"name": "Other", "policy_ids": ["not-a-uuid"]}, "policy_ids", "does not exist"),
        (
            {"name": "Other", "policy_ids": [str(uuid4()) for _ in range(101)]},
            "policy_ids",
            "at most 100 policies",
        ),
    ]
    for fields, field, message in cases:
        response = await post_form(client, "/settings/roles", fields)
        assert response.status_code == 422, (field, message)
        assert re.search(
            rf'<p class="field-error" id="{field}-error">[^<]*{message}', response.text
        ), (field, message)
    kept = await post_form(
        client, "/settings/roles", {"name": "", "description": "kept", "policy_ids": [str(policy)]}
    )
    assert ">kept</textarea>" in kept.text
    assert f'value="{policy}" checked' in kept.text
    # The ticked policies still show what they add up to.
    assert effective_levels(kept.text)["Activity log"] == "read"
    assert await Role.count() == 1


async def test_a_double_submitted_create_form_makes_one_policy_and_one_role(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    fields = policy_form("Auditors", activity_log="read")
    first, second = await asyncio.gather(
        post_form(client, "/settings/policies", fields),
        post_form(client, "/settings/policies", fields),
    )
    assert sorted([first.status_code, second.status_code]) == [303, 422]
    refused = first if first.status_code == 422 else second
    assert "already exists" in refused.text
    assert await PermissionPolicy.count() == 1

    role_fields = {"name": "Auditor"}
    answers = await asyncio.gather(
        *(post_form(client, "/settings/roles", role_fields) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [303, 422]
    assert await Role.count() == 1


async def test_the_unique_index_refuses_a_duplicate_that_slips_past_the_check(
    client: AsyncTestClient[Litestar], acme: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a race between two submits comes down to: the index decides, with a clear message."""

    async def no_check(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(service, "_refuse_duplicate_name", no_check)
    await sign_in(client, acme.admin.email)
    fields = policy_form("Auditors", activity_log="read")
    assert (await post_form(client, "/settings/policies", fields)).status_code == 303
    again = await post_form(client, "/settings/policies", fields)
    assert again.status_code == 422
    assert re.search(r'<p class="field-error" id="name-error">[^<]*already exists', again.text)
    other = created_id(await post_form(client, "/settings/policies", policy_form("Other")))
    renamed = await post_form(client, f"/settings/policies/{other}", policy_form("Auditors"))
    assert renamed.status_code == 422 and "already exists" in renamed.text

    assert (await post_form(client, "/settings/roles", {"name": "Auditor"})).status_code == 303
    role_again = await post_form(client, "/settings/roles", {"name": "Auditor"})
    assert role_again.status_code == 422 and "already exists" in role_again.text
    assert await PermissionPolicy.count() == 2 and await Role.count() == 1
    names = {p["name"] for p in await PermissionPolicy.select(PermissionPolicy.name)}
    assert names == {"Auditors", "Other"}
