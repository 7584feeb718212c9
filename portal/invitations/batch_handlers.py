"""Bulk invitations from a CSV file: upload, per-row results, live progress."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.activity.log import Actor
from portal.error_handlers import handle_http_exception
from portal.errors import NotFound
from portal.invitations.batches import (
    batch_in,
    batch_progress,
    batch_rows,
    emails_in_use,
    recent_batches,
    store_batch,
)
from portal.invitations.csv_import import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    FileRefused,
    check_rows,
    emails_to_look_up,
    read_csv,
)
from portal.pages import page
from portal.permissions.guards import access_of, may, principal_of
from portal.permissions.principal import Principal
from portal.permissions.requirements import USERS_FULL

IMPORT_PATH = "/settings/users/import"
# Above the file limit, so that a file a little too large is still read and refused with the
# form's message; far larger uploads are cut off before they are read.
MAX_UPLOAD_BODY = 4 * MAX_FILE_BYTES
TOO_LARGE = (
    f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. Split it into smaller files."
)


@get("/", opt=USERS_FULL)
async def import_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    return await _upload_form(request, principal)


def _refuse_too_large(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Response[Any]:
    """The body limit is checked before the guard runs: only those who may upload see the form."""
    principal = principal_of(request)
    access = access_of(request.route_handler)
    if principal is None or access is None or not may(principal, access):
        return handle_http_exception(request, exc)
    return _form(request, TOO_LARGE, recent=[], status_code=413)


@post(
    "/",
    opt=USERS_FULL,
    request_max_body_size=MAX_UPLOAD_BODY,
    exception_handlers={RequestEntityTooLarge: _refuse_too_large},
)
async def import_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    actor: NamedDependency[Actor],
) -> Response[Any]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _upload_form(request, principal, "Choose a CSV file to upload.")
    try:
        data = await upload.read()
    finally:
        await upload.close()
    try:
        rows = read_csv(data)
    except FileRefused as refused:
        return await _upload_form(request, principal, refused.message)
    results = check_rows(rows, await emails_in_use(emails_to_look_up(rows)))
    batch_id = await store_batch(actor, upload.filename, results)
    return Redirect(f"{IMPORT_PATH}/{batch_id}", status_code=303)


async def _upload_form(
    request: Request[Any, Any, Any], principal: Principal, problem: str | None = None
) -> Template:
    recent = await recent_batches(principal.organisation_id)
    return _form(request, problem, recent, status_code=422 if problem else 200)


def _form(
    request: Request[Any, Any, Any],
    problem: str | None,
    recent: list[dict[str, Any]],
    status_code: int,
) -> Template:
    return page(
        request,
        "invitations/import.html",
        status_code=status_code,
        problem=problem,
        recent=recent,
        max_rows=MAX_ROWS,
        max_megabytes=MAX_FILE_BYTES // (1024 * 1024),
    )


@get("/{batch_id:uuid}", opt=USERS_FULL)
async def batch_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], batch_id: FromPath[UUID]
) -> Template:
    batch = await _batch_or_404(principal, batch_id)
    return page(
        request,
        "invitations/batch.html",
        batch=batch,
        progress=await batch_progress(batch_id, batch["total_rows"]),
        rows=await batch_rows(batch_id),
    )


@get("/{batch_id:uuid}/progress", opt=USERS_FULL)
async def batch_progress_fragment(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], batch_id: FromPath[UUID]
) -> Template:
    """Polled by the batch page every second until every email is out. The last answer also
    brings the final per-row results (an out-of-band swap), as the page's table was loaded
    while they were still pending."""
    batch = await _batch_or_404(principal, batch_id)
    progress = await batch_progress(batch_id, batch["total_rows"])
    return Template(
        template_name="invitations/_progress.html",
        context={
            "batch": batch,
            "progress": progress,
            "rows": await batch_rows(batch_id) if progress.done else None,
            "out_of_band": True,
        },
    )


async def _batch_or_404(principal: Principal, batch_id: UUID) -> dict[str, Any]:
    batch = await batch_in(principal.organisation_id, batch_id)
    if batch is None:
        raise NotFound("upload")
    return batch


PAGES = Router(
    IMPORT_PATH,
    route_handlers=[import_page, import_submit, batch_page, batch_progress_fragment],
    include_in_schema=False,
)
ROUTERS = [PAGES]
