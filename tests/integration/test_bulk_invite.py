"""Bulk invitations from a CSV file and through the API: every row checked before anything is
sent, good rows invited by the batch actor, emails delivered over real SMTP, progress to 100%."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import time_machine
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from portal.activity.log import Actor
from portal.invitations.batches import (
    UPLOADER_CANNOT_INVITE,
    run_batch,
    store_batch,
    unfinished_batches,
)
from portal.invitations.csv_import import RowIn, check_rows
from portal.invitations.service import Invitee, invite
from portal.invitations.tables import InvitationBatch, InvitationBatchRow
from portal.mail.delivery import deliver
from portal.mail.tables import OutboundEmail
from portal.settings import Settings
from portal.users.tables import User
from tests.conftest import BASE_URL, MailSink, Tenant, broker_in_use, sign_in
from workflows.invitation_batches import SWEEP_GRACE

IMPORT = "/settings/users/import"
BULK_API = "/api/v1/users/invitations/bulk"
PORTAL = str(Path(sys.executable).parent / "portal")
REDIS_URL = "redis://127.0.0.1:6379/11"
NOTHING_LISTENS = "redis://127.0.0.1:1/0"


def csv_file(*rows: str, header: str = "name,email,tier") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


async def upload(
    client: AsyncTestClient[Litestar], data: bytes, file_name: str = "people.csv"
) -> Any:
    await client.get(IMPORT)  # as a browser would: the form, then the POST
    return await client.post(
        IMPORT,
        files={"file": (file_name, data, "text/csv")},
        data={"_csrf_token": client.cookies["csrftoken"]},
        follow_redirects=False,
    )


def batch_id_of(response: Any) -> UUID:
    assert response.status_code == 303, response.text
    found = re.fullmatch(rf"{IMPORT}/([0-9a-f-]{{36}})", response.headers["location"])
    assert found, response.headers["location"]
    return UUID(found.group(1))


async def progress_fragment(client: AsyncTestClient[Litestar], batch_id: UUID) -> str:
    response = await client.get(f"{IMPORT}/{batch_id}/progress", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text  # a fragment, not a page
    return response.text


async def deliver_owed(settings: Settings, smtp_url: str) -> int:
    over_smtp = replace(settings, smtp_url=smtp_url)
    owed = await OutboundEmail.select(OutboundEmail.id).where(OutboundEmail.status == "pending")
    for row in owed:
        assert await deliver(row["id"], over_smtp) == "sent"
    return len(owed)


def outcomes(rows: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    return {row["row_number"]: (row["outcome"], row["message"]) for row in rows}


async def stored_rows(batch_id: UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await (
        InvitationBatchRow.select(
            InvitationBatchRow.row_number, InvitationBatchRow.outcome, InvitationBatchRow.message
        )
        .where(InvitationBatchRow.batch == batch_id)
        .order_by(InvitationBatchRow.row_number)
    )
    return rows


async def test_good_rows_are_invited_bad_rows_reported_and_emails_delivered(
    client: AsyncTestClient[Litestar],
    acme: Tenant,
    settings: Settings,
    smtp_server: tuple[MailSink, str],
) -> None:
    sink, smtp_url = smtp_server
    await sign_in(client, acme.admin.email)
    users_page = await client.get("/settings/users")
    assert f'href="{IMPORT}">Invite from a CSV file</a>' in users_page.text
    form = await client.get(IMPORT)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text

    users_before = await User.count()
    response = await upload(
        client,
        csv_file(
            "Ada Lovelace,ada@acme.example,manager",
            ",nameless@acme.example,user",
            "Bad Email,not-an-email,user",
            "Wrong Tier,tier@acme.example,emperor",
            "Ada Twice,ADA@acme.example,user",
            f"Already Here,{acme.manager.email},user",
            "Grace Hopper,grace@acme.example,user",
            "Alan Turing,alan@acme.example,admin",
        ),
        file_name="team.csv",
    )
    batch_id = batch_id_of(response)
    # Stored, checked, nothing sent yet: the worker has not run.
    assert await User.count() == users_before
    assert await OutboundEmail.count() == 0
    batch = await InvitationBatch.select().where(InvitationBatch.id == batch_id).first()
    assert batch is not None
    assert (batch["file_name"], batch["total_rows"], batch["status"]) == ("team.csv", 8, "pending")
    assert outcomes(await stored_rows(batch_id)) == {
        2: ("pending", ""),
        3: ("refused", "Name: Enter the colleague's name."),
        4: ("refused", "Email: This is not a valid email address."),
        5: ("refused", "Tier: Choose admin, manager or user."),
        6: ("refused", "Email: This email is already on row 2."),
        7: ("refused", "Email: This email is already in use."),
        8: ("pending", ""),
        9: ("pending", ""),
    }

    page = await client.get(f"{IMPORT}/{batch_id}")
    assert page.status_code == 200
    assert "Invitations from team.csv" in page.text
    assert "Email: This email is already on row 2." in page.text
    assert page.text.count(">Waiting</span>") == 3
    fragment = await progress_fragment(client, batch_id)
    assert 'hx-trigger="every 1s"' in fragment and "<strong>62%</strong>" in fragment

    assert await run_batch(batch_id, BASE_URL) == 3
    assert await User.count() == users_before + 3
    fragment = await progress_fragment(client, batch_id)
    assert 'hx-trigger="every 1s"' in fragment  # invited, but no email is out yet
    assert "0 of 3 invitations sent" in fragment

    assert await deliver_owed(settings, smtp_url) == 3
    assert sorted(to for mail in sink.received for to in mail.to) == [
        "ada@acme.example",
        "alan@acme.example",
        "grace@acme.example",
    ]
    assert all(
        "/invitations/" in mail.message.get_body(("plain",)).get_content() for mail in sink.received
    )
    fragment = await progress_fragment(client, batch_id)
    assert "<strong>100%</strong>" in fragment and "3 of 3 invitations sent" in fragment
    assert "hx-trigger" not in fragment  # polling stops
    # The last answer also swaps in the final results of every row.
    assert 'id="batch-rows" hx-swap-oob="true"' in fragment
    assert fragment.count("Invited, email sent") == 3
    batch_done = await InvitationBatch.select(InvitationBatch.status).where(
        InvitationBatch.id == batch_id
    )
    assert batch_done == [{"status": "done"}]


async def test_running_the_batch_twice_sends_each_invitation_once(
    client: AsyncTestClient[Litestar],
    acme: Tenant,
    settings: Settings,
    smtp_server: tuple[MailSink, str],
) -> None:
    sink, smtp_url = smtp_server
    await sign_in(client, acme.admin.email)
    people = [f"Colleague {n},c{n}@acme.example,user" for n in range(30)]
    batch_id = batch_id_of(await upload(client, csv_file(*people)))
    # Two runs at once (a duplicate message, or the sweep beside the first run), then a third.
    settled = await asyncio.gather(run_batch(batch_id, BASE_URL), run_batch(batch_id, BASE_URL))
    assert sum(settled) == 30, settled
    assert await run_batch(batch_id, BASE_URL) == 0
    assert await OutboundEmail.count() == 30
    assert await deliver_owed(settings, smtp_url) == 30
    addresses = [to for mail in sink.received for to in mail.to]
    assert sorted(addresses) == sorted(f"c{n}@acme.example" for n in range(30))
    assert {row["outcome"] for row in await stored_rows(batch_id)} == {"invited"}


async def test_a_row_whose_email_was_taken_meanwhile_is_refused(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    batch_id = batch_id_of(
        await upload(client, csv_file("Ada,ada@acme.example,user", "Bob,bob@acme.example,user"))
    )
    await invite(Actor(acme.admin.id, acme.id), Invitee("Bob", "bob@acme.example", "user"), "x")
    assert await run_batch(batch_id, BASE_URL) == 2
    assert outcomes(await stored_rows(batch_id)) == {
        2: ("invited", ""),
        3: ("refused", "Email: This email is already in use."),
    }


async def test_rows_wait_for_nobody_when_the_uploader_may_no_longer_invite(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    batch_id = batch_id_of(await upload(client, csv_file("Ada,ada@acme.example,user")))
    await User.update({User.status: "inactive"}).where(User.id == acme.admin.id)
    assert await run_batch(batch_id, BASE_URL) == 0
    assert outcomes(await stored_rows(batch_id)) == {2: ("refused", UPLOADER_CANNOT_INVITE)}
    assert await OutboundEmail.count() == 0


async def test_another_organisations_batch_is_not_found(
    client: AsyncTestClient[Litestar], app: Litestar, acme: Tenant, globex: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    batch_id = batch_id_of(await upload(client, csv_file("Ada,ada@acme.example,user")))
    async with AsyncTestClient(app, base_url=BASE_URL) as other:
        await sign_in(other, globex.admin.email)
        for url in (f"{IMPORT}/{batch_id}", f"{IMPORT}/{batch_id}/progress"):
            assert (await other.get(url)).status_code == 404
        assert (await other.get(f"{BULK_API}/{batch_id}")).status_code == 404
        assert "ada@acme.example" not in (await other.get(IMPORT)).text
    assert (await client.get(f"{IMPORT}/{uuid.uuid4()}")).status_code == 404


async def test_managers_may_not_invite_in_bulk(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.manager.email)
    assert (await client.get(IMPORT)).status_code == 403
    refused = await client.post(
        IMPORT,
        files={"file": ("people.csv", csv_file("Ada,ada@acme.example,user"), "text/csv")},
        data={"_csrf_token": client.cookies["csrftoken"]},
    )
    assert refused.status_code == 403
    api = await client.post(
        BULK_API,
        json={"rows": [{"full_name": "Ada", "email": "ada@acme.example", "tier": "user"}]},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
    )
    assert api.status_code == 403
    assert await InvitationBatch.count() == 0


async def test_a_10000_character_name_is_refused_on_its_row(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    batch_id = batch_id_of(
        await upload(
            client, csv_file(f"{'N' * 10_000},long@acme.example,user", "Ok,ok@acme.example,user")
        )
    )
    rows = await InvitationBatchRow.select(
        InvitationBatchRow.full_name, InvitationBatchRow.outcome, InvitationBatchRow.message
    ).order_by(InvitationBatchRow.row_number)
    assert rows[0]["outcome"] == "refused" and len(rows[0]["full_name"]) == 200
    assert rows[0]["message"] == "This row has 10,021 characters; a row may have at most 1,000."
    assert rows[1]["outcome"] == "pending"
    page = await client.get(f"{IMPORT}/{batch_id}")
    assert page.status_code == 200 and "This row has 10,021 characters" in page.text


async def test_files_that_cannot_be_read_are_refused_with_a_clear_message(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    too_many = csv_file(*(f"P{n},p{n}@acme.example,user" for n in range(5_001)))
    answer = await upload(client, too_many)
    assert answer.status_code == 422
    assert "The file has 5,001 rows; at most 5,000 can be invited at once." in answer.text

    latin1 = "name,email,tier\r\nZoë,zoe@acme.example,user\r\n".encode("latin-1")
    answer = await upload(client, latin1)
    assert answer.status_code == 422
    assert "The file is not UTF-8 text (line 2" in answer.text and "CSV UTF-8" in answer.text

    big = csv_file("x" * (3 * 1024 * 1024))
    answer = await upload(client, big)
    assert answer.status_code == 422 and "The file is 3 MB; the limit is 2 MB." in answer.text

    # Far too large to read at all: cut off at the transport, still answered with the form.
    huge = csv_file("x" * (9 * 1024 * 1024))
    answer = await upload(client, huge)
    assert answer.status_code == 413
    assert "The file is larger than 2 MB." in answer.text and 'type="file"' in answer.text

    no_file = await client.post(
        IMPORT, data={"_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )
    assert no_file.status_code == 422 and "Choose a CSV file to upload." in no_file.text
    assert await InvitationBatch.count() == 0


async def test_the_bulk_api(
    client: AsyncTestClient[Litestar],
    acme: Tenant,
    settings: Settings,
    smtp_server: tuple[MailSink, str],
) -> None:
    _, smtp_url = smtp_server
    await sign_in(client, acme.admin.email)
    headers = {"x-csrftoken": client.cookies["csrftoken"]}
    rows = [
        {"full_name": "Ada Lovelace", "email": "ada@acme.example", "tier": "manager"},
        {"full_name": "", "email": "bad", "tier": "user"},
        {"full_name": "Ada Again", "email": "ADA@acme.example", "tier": "user"},
        {"full_name": "Grace Hopper", "email": "grace@acme.example", "tier": "user"},
    ]
    created = await client.post(BULK_API, json={"rows": rows}, headers=headers)
    assert created.status_code == 202, created.text
    body = created.json()
    batch_id = body["batch_id"]
    assert body == {
        "batch_id": batch_id,
        "accepted": 2,
        "refused": [
            {"row": 2, "field": "full_name", "message": "Enter the colleague's name."},
            {"row": 2, "field": "email", "message": "This is not a valid email address."},
            {"row": 3, "field": "email", "message": "This email is already on row 1."},
        ],
    }
    progress_url = f"{BULK_API}/{batch_id}"
    assert (await client.get(progress_url)).json() == {
        "total": 4,
        "invited": 0,
        "refused": 2,
        "sent": 0,
        "failed": 0,
        "done": False,
    }
    await run_batch(UUID(batch_id), BASE_URL)
    await deliver_owed(settings, smtp_url)
    assert (await client.get(progress_url)).json() == {
        "total": 4,
        "invited": 2,
        "refused": 2,
        "sent": 2,
        "failed": 0,
        "done": True,
    }
    # The batch has its page too.
    assert "Invitations from the API" in (await client.get(f"{IMPORT}/{batch_id}")).text

    for bad_body, status in (
        ({"rows": []}, 422),
        ({"rows": [rows[0]] * 5_001}, 422),
        ({"rows": [{**rows[0], "roles": []}]}, 422),
        ({"people": rows}, 422),
    ):
        answer = await client.post(BULK_API, json=bad_body, headers=headers)
        assert answer.status_code == status, (bad_body, answer.text)
        assert answer.json()["error"]["code"] == "validation_failed"
    assert (await client.get(f"{BULK_API}/{uuid.uuid4()}")).status_code == 404
    assert await InvitationBatch.count() == 1


async def test_a_lost_message_is_made_good_by_the_sweep(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    with broker_in_use(RedisBroker(url=NOTHING_LISTENS)):
        # Redis is down: the upload still succeeds, and the batch waits in the database.
        batch_id = batch_id_of(await upload(client, csv_file("Ada,ada@acme.example,user")))
    assert await unfinished_batches(SWEEP_GRACE) == []  # too fresh: its message may be on the way
    with time_machine.travel(datetime.now(UTC) + 2 * SWEEP_GRACE):
        assert await unfinished_batches(SWEEP_GRACE) == [batch_id]
    await run_batch(batch_id, BASE_URL)  # what the sweep's message does
    assert await unfinished_batches(timedelta(0)) == []
    assert outcomes(await stored_rows(batch_id)) == {2: ("invited", "")}


async def test_a_file_of_exactly_5000_rows_is_accepted_and_shown(
    client: AsyncTestClient[Litestar], acme: Tenant
) -> None:
    await sign_in(client, acme.admin.email)
    rows = (f"Colleague {n},c{n}@acme.example,user" for n in range(5_000))
    batch_id = batch_id_of(await upload(client, csv_file(*rows)))
    assert await InvitationBatchRow.count().where(InvitationBatchRow.outcome == "pending") == 5_000
    page = await client.get(f"{IMPORT}/{batch_id}")
    assert page.status_code == 200 and page.text.count(">Waiting</span>") == 5_000


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PORTAL, "worker", "--processes", "1", "--threads", "4"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the kill takes the children too
    )


async def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _invited() -> int:
    count: int = await InvitationBatchRow.count().where(InvitationBatchRow.outcome == "invited")
    return count


async def test_a_worker_killed_mid_batch_leaves_no_half_row(
    acme: Tenant, smtp_server: tuple[MailSink, str]
) -> None:
    sink, smtp_url = smtp_server
    total = 400
    rows = [RowIn(n + 2, f"Colleague {n}", f"k{n}@acme.example", "user") for n in range(total)]
    batch_id = await store_batch(Actor(acme.admin.id, acme.id), "team.csv", check_rows(rows, set()))
    namespace = f"portal-batch-kill-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    broker.declare_queue("invitations")

    def wake() -> None:
        broker.enqueue(
            Message(
                queue_name="invitations",
                actor_name="process_invitation_batch",
                args=(str(batch_id),),
                kwargs={},
                options={},
            )
        )

    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "PORTAL_QUEUE_NAMESPACE": namespace,
        "SMTP_URL": smtp_url,
        # The batch and the emails the killed worker held are taken over once their leases
        # run out (the sweeps for leased work run once a lease), long before the sweep
        # interval of a minute or Redis's own redelivery of a dead worker's message.
        "PORTAL_BATCH_LEASE_SECONDS": "2",
        "PORTAL_MAIL_LEASE_SECONDS": "3",
        "PORTAL_SWEEP_INTERVAL_SECONDS": "60",
    }
    log = Path(os.environ["PORTAL_DATA_DIR"]) / "batch-worker.log"
    wake()
    first = _worker(env, log)
    second = None
    try:

        async def some_invited() -> bool:
            return await _invited() >= 40

        await _wait_for(some_invited, 60, "the first worker to invite 40 rows: " + str(log))
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        invited_at_kill = await _invited()
        assert invited_at_kill < total, "the batch finished before the kill: nothing was tested"
        # No half row: a user exists for exactly the rows marked invited, each with one email.
        invited_users = await User.count().where(User.email.like("k%@acme.example"))
        assert invited_users == invited_at_kill
        assert await OutboundEmail.count() == invited_at_kill

        killed_at = time.monotonic()
        second = _worker(env, log)

        async def resumed() -> bool:
            return await _invited() > invited_at_kill

        await _wait_for(resumed, 30, "another worker to take the batch over: " + str(log))
        # Within the lease (plus the new worker's start), not at the next sweep a minute later.
        assert time.monotonic() - killed_at < 20

        async def all_sent() -> bool:
            sent: int = await OutboundEmail.count().where(OutboundEmail.status == "sent")
            return await _invited() == total and sent == total

        await _wait_for(all_sent, 120, "every row invited and its email sent after the restart")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # The whole namespace: the killed worker's acks and the mail queue too.
        for key in broker.client.scan_iter(match=f"{namespace}:*"):
            broker.client.delete(key)
        broker.close()
    assert await User.count().where(User.email.like("k%@acme.example")) == total
    assert await OutboundEmail.count() == total
    per_address = Counter(to for mail in sink.received for to in mail.to)
    assert set(per_address) == {f"k{n}@acme.example" for n in range(total)}
    # An email whose worker died after the SMTP server took it but before the database heard
    # is sent again (same Message-ID): at most one per worker thread in flight at the kill.
    assert sum(per_address.values()) - total <= 4, per_address.most_common(5)
    batch = await InvitationBatch.select(InvitationBatch.status).where(
        InvitationBatch.id == batch_id
    )
    assert batch == [{"status": "done"}]
