"""The developer outbox: emails kept locally because no SMTP server is configured."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.errors import Refusal
from portal.mail.outbox import recent_emails
from portal.pages import page
from portal.permissions.guards import requires
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal

PRIVATE_KINDS = frozenset({"password_reset", "access_email"})


@get("/", opt=requires(Area.USERS, Level.READ))
async def outbox_page(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    if request.app.state.settings.smtp_url is not None:
        # With a real SMTP server the mail is in people's inboxes, not here.
        raise Refusal("There is no local outbox: emails go out over SMTP.", status=404)
    emails = await recent_emails(principal.organisation_id, 100)
    for email in emails:
        # A reset link opens someone's account: only its recipient may read it here.
        if email["kind"] in PRIVATE_KINDS and email["to_address"] != principal.email:
            email["text_body"] = "(A password-reset link: shown only to its recipient.)"
    return page(request, "mail/outbox.html", emails=emails)


PAGES = Router(
    "/dev/outbox",
    route_handlers=[outbox_page],
    include_in_schema=False,
)
ROUTERS = [PAGES]
