"""Headers every response carries: no framing, no sniffing, only our own scripts and styles,
and no caching of anything that may show a tenant's data.

A plain ASGI wrapper of `send`, outermost: it sees every response (pages, the API, errors,
static files) and costs a loop over the headers, not a hook per route.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Static files are public and versioned by name; everything else may be private. A
    # response that says otherwise keeps its own.
    "Cache-Control": "no-store",
}
ENCODED = tuple((name.lower().encode(), value.encode()) for name, value in HEADERS.items())


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers plus each security header the response did not set itself. Pure."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((name, value) for name, value in ENCODED if name not in present)]


def security_headers(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
