"""The activity log serves an audit: filters, search, keyset pages, exports and a person's own
tab, through HTTP on the real database; and the database itself keeps the log append-only."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient
from piccolo.querystring import QueryString

from portal.activity.log import Subject, SubjectKind, log_action
from portal.activity.tables import ActivityEvent
from portal.approvals.decisions import decide
from portal.db import engine
from tests.conftest import BASE_URL, Tenant, sign_in
from tests.integration.orders_support import add_policy, order_row, place_and_evaluate

Client = AsyncTestClient[Any]
ROWS = re.compile(r"<tbody>(.*?)</tbody>", re.S)
TIME = re.compile(r'<time datetime="([^"]+)"')


def rows_of(html: str) -> list[str]:
    found = ROWS.search(html)
    assert found, "no table on the page"
    return [row for row in found.group(1).split("<tr>")[1:] if "No events match" not in row]


async def add_event(
    tenant: Tenant,
    action: str,
    *,
    at: datetime,
    actor: UUID | None = None,
    ip: str = "",
    data: dict[str, Any] | None = None,
) -> UUID:
    event = ActivityEvent(
        organisation=tenant.id,
        actor=actor,
        action=action,
        occurred_at=at,
        ip=ip,
        data=data or {},
    )
    await ActivityEvent.insert(event)
    return event.id


async def admin_client(client: Client, tenant: Tenant) -> Client:
    response = await sign_in(client, tenant.admin.email)
    assert response.status_code == 303
    return client


# The database refuses to change or remove what the log holds -----------------------------


async def test_the_database_refuses_to_update_or_delete_an_event(acme: Tenant) -> None:
    await log_action("auth.signed_in", organisation_id=acme.id, subject_id=acme.user.id)
    for statement in (
        'UPDATE "activity_event" SET "action" = \'auth.signed_out\'',
        'DELETE FROM "activity_event"',
    ):
        with pytest.raises(Exception, match="append-only"):
            await engine().run_querystring(QueryString(statement))
    with pytest.raises(Exception, match="append-only"):
        await ActivityEvent.update({ActivityEvent.ip: "203.0.113.9"}, force=True)
    assert await ActivityEvent.count().where(ActivityEvent.action == "auth.signed_in") == 1


# Filters, search and pages -------------------------------------------------------------


async def test_filters_by_who_what_when_and_address(client: Client, acme: Tenant) -> None:
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)
    await add_event(acme, "auth.signed_in", at=day, actor=acme.manager.id, ip="192.0.2.7")
    await add_event(acme, "auth.signed_in", at=day + timedelta(days=40), actor=acme.user.id)
    await add_event(acme, "user.changed", at=day + timedelta(hours=1), actor=acme.manager.id)
    await add_event(acme, "invitation.expired", at=day, ip="198.51.100.1")
    await admin_client(client, acme)

    async def count(**params: str) -> int:
        response = await client.get("/settings/activity", params=params)
        assert response.status_code == 200, response.text
        return len(rows_of(response.text))

    assert await count(who=str(acme.manager.id)) == 2
    assert await count(who=str(acme.manager.id), action="auth.signed_in") == 1
    assert await count(who="portal", action="invitation.expired") == 1
    assert await count(**{"from": "2026-03-01", "to": "2026-03-31"}) == 3
    assert (
        await count(**{"from": "2026-03-01", "to": "2026-03-31", "action": "auth.signed_in"}) == 1
    )
    assert await count(**{"from": "2026-04-19", "to": "2026-04-19"}) == 1
    assert await count(ip="192.0.2.") == 1
    assert await count(ip="198.51.100.1") == 1


async def test_search_finds_people_subjects_actions_and_recorded_text(
    client: Client, acme: Tenant
) -> None:
    policy = await add_policy(acme, "Big spend", "100", users=[acme.admin.id])
    order_id = await place_and_evaluate(acme.manager, "900")
    await decide(acme.admin.actor, order_id, False, "Too dear for this quarter", base_url=BASE_URL)
    await admin_client(client, acme)
    number = (await order_row(order_id))["number"]

    async def found(q: str) -> str:
        response = await client.get("/settings/activity", params={"q": q})
        assert response.status_code == 200
        return response.text

    by_number = await found(f"order {number}")
    assert f'href="/orders/{order_id}">Order {number}</a>' in by_number
    assert (
        "Reason: Too dear for this quarter" in by_number or "Too dear for this quarter" in by_number
    )
    assert all(f"Order {number}" in row for row in rows_of(by_number))
    by_policy = await found("big spend")
    assert f'href="/settings/approval-policies/{policy}"' in by_policy
    assert rows_of(await found("acme manager"))  # the requester, by name
    rejected = await found("Order rejected")
    assert len(rows_of(rejected)) == 1 and "Too dear for this quarter" in rejected
    assert rows_of(await found("quarter"))  # the reason itself, as recorded
    assert rows_of(await found("no such thing anywhere")) == []


async def test_history_of_one_subject_and_the_kind_filter(client: Client, acme: Tenant) -> None:
    await add_policy(acme, "Level one", "100", users=[acme.admin.id])
    first = await place_and_evaluate(acme.manager, "300")
    await place_and_evaluate(acme.manager, "400")
    await admin_client(client, acme)
    history = await client.get("/settings/activity", params={"about": str(first)})
    assert history.status_code == 200
    rows = rows_of(history.text)
    assert rows and all(f'href="/orders/{first}"' in row for row in rows)
    policies = rows_of(
        (await client.get("/settings/activity", params={"kind": "approval_policy"})).text
    )
    assert len(policies) == 1 and "Approval policy Level one" in policies[0]


async def test_keyset_pages_walk_every_event_once_newest_first(
    client: Client, acme: Tenant
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Twenty share one instant: the id breaks the tie, so none is shown twice or skipped.
    for index in range(120):
        at = start + timedelta(minutes=index) if index >= 20 else start
        await add_event(acme, "invitation.reminded", at=at, data={"n": index})
    await admin_client(client, acme)
    seen: list[str] = []
    href = "/settings/activity?action=invitation.reminded"
    while href:
        response = await client.get(href.replace("&amp;", "&"))
        assert response.status_code == 200
        seen += [TIME.findall(row)[0] for row in rows_of(response.text)]
        more = re.search(r'rel="next" href="([^"]+)"', response.text)
        href = more.group(1) if more else ""
    assert len(seen) == 120
    assert seen == sorted(seen, reverse=True)
    exported = await client.get("/settings/activity/export.jsonl?action=invitation.reminded")
    numbers = [json.loads(line)["data"]["n"] for line in exported.text.splitlines()]
    assert sorted(numbers) == list(range(120))


async def test_bad_filters_are_named_and_show_nothing_else(client: Client, acme: Tenant) -> None:
    await admin_client(client, acme)
    for params, field in (
        ({"from": "03/10/2026"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"who": "not-a-person"}, "who"),
        ({"action": "user.exploded"}, "action"),
        ({"kind": "planet"}, "kind"),
        ({"ip": "1.2.3.4'; DROP TABLE"}, "ip"),
        ({"q": "x" * 201}, "q"),
        ({"q": "nul\x00byte"}, "q"),
        ({"about": "12"}, "about"),
    ):
        response = await client.get("/settings/activity", params=params)
        assert response.status_code == 400, params
        assert f'id="{field}-error"' in response.text, params
        export = await client.get("/settings/activity/export.csv", params=params)
        assert export.status_code == 400 and "attachment" not in export.headers.get(
            "content-disposition", ""
        )
    tampered = await client.get("/settings/activity", params={"after": "bm90IGEgY3Vyc29y"})
    assert tampered.status_code == 400
    assert "That page link is not valid any more" in tampered.text


# Exports -------------------------------------------------------------------------------


async def test_csv_export_holds_the_filtered_events_with_safe_cells(
    client: Client, acme: Tenant
) -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    await add_event(
        acme,
        "user.changed",
        at=at,
        actor=acme.admin.id,
        data={"before": {"full_name": "=HYPERLINK(1)"}, "after": {"full_name": "Plain"}},
    )
    await add_event(acme, "auth.signed_in", at=at, actor=acme.user.id)
    await admin_client(client, acme)
    response = await client.get("/settings/activity/export.csv", params={"action": "user.changed"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["action"] == "user.changed" and row["what"] == "User changed"
    assert row["actor_email"] == acme.admin.email
    assert row["changes"] == "full name: =HYPERLINK(1) → Plain"
    assert json.loads(row["data"])["after"] == {"full_name": "Plain"}
    everything = await client.get("/settings/activity/export.jsonl")
    lines = [json.loads(line) for line in everything.text.splitlines()]
    assert {line["action"] for line in lines} >= {"user.changed", "auth.signed_in"}
    assert everything.headers["content-type"].startswith("application/x-ndjson")


# Tenants and tiers -----------------------------------------------------------------------


async def test_another_tenant_sees_none_of_it(client: Client, acme: Tenant, globex: Tenant) -> None:
    secret = uuid4()
    await log_action(
        "role.created",
        organisation_id=acme.id,
        actor_id=acme.admin.id,
        about=Subject(SubjectKind.ROLE, secret),
        data={"role": "Acme secret role"},
    )
    await admin_client(client, globex)
    page = await client.get("/settings/activity", params={"q": "secret"})
    assert page.status_code == 200 and rows_of(page.text) == []
    assert (
        rows_of((await client.get("/settings/activity", params={"about": str(secret)})).text) == []
    )
    assert (await client.get(f"/settings/activity/users/{acme.admin.id}")).status_code == 404
    exported = await client.get("/settings/activity/export.jsonl")
    assert "Acme" not in exported.text
    assert (
        await client.get("/settings/activity", params={"who": str(acme.admin.id)})
    ).status_code == 200


async def test_a_user_without_the_log_right_is_refused(client: Client, acme: Tenant) -> None:
    await sign_in(client, acme.user.email)
    for path in (
        "/settings/activity",
        "/settings/activity/export.csv",
        f"/settings/activity/users/{acme.user.id}",
    ):
        assert (await client.get(path)).status_code == 403, path


async def test_a_persons_tab_shows_what_they_did_and_what_was_done_about_them(
    client: Client, acme: Tenant
) -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    await add_event(acme, "auth.signed_in", at=at, actor=acme.manager.id)
    await log_action(
        "user.changed",
        organisation_id=acme.id,
        actor_id=acme.admin.id,
        subject_id=acme.manager.id,
        data={"before": {"tier": "user"}, "after": {"tier": "manager"}},
    )
    await add_event(acme, "auth.signed_in", at=at, actor=acme.user.id)
    await admin_client(client, acme)
    detail = await client.get(f"/settings/users/{acme.manager.id}")
    assert f'href="/settings/activity/users/{acme.manager.id}"' in detail.text
    tab = await client.get(f"/settings/activity/users/{acme.manager.id}")
    assert tab.status_code == 200
    rows = rows_of(tab.text)
    assert len(rows) == 3  # signed in, was changed, and was created with the organisation
    assert any("User created" in row for row in rows)
    assert any("tier: user → manager" in row and "Acme Admin" in row for row in rows)
    assert not any("Acme user" in row for row in rows)
