"""The developer's mail catcher: in the embedded mode (no REDIS_URL, no SMTP_URL) every email
the portal writes is kept locally, readable here by whoever sits at the machine (a loopback
client, signed in or not: a reset link is for someone who cannot sign in) and written as an
`.eml` file under the data directory. Anywhere else the page does not exist."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request, Router, get
from litestar.response import Template

from portal.errors import NotFound
from portal.mail.outbox import recent_emails
from portal.pages import page
from portal.permissions.guards import public
from portal.settings import Settings

SHOWN = 200


def is_loopback(request: Request[Any, Any, Any]) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def catches_mail(settings: Settings) -> bool:
    return settings.embedded and settings.smtp_url is None


@get("/", opt=public())
async def outbox_page(request: Request[Any, Any, Any]) -> Template:
    settings: Settings = request.app.state.settings
    if not catches_mail(settings) or not is_loopback(request):
        # With SMTP the mail is in people's inboxes; from another machine this is no page.
        raise NotFound("page")
    emails = await recent_emails(SHOWN)
    return page(request, "mail/outbox.html", emails=emails, eml_dir=settings.data_dir / "outbox")


PAGES = Router(
    "/dev/outbox",
    route_handlers=[outbox_page],
    include_in_schema=False,
)
ROUTERS = [PAGES]
