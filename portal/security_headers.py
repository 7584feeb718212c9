"""Headers every response carries: no framing, no sniffing, only our own scripts and styles,
and no caching of anything that may show a tenant's data."""

from __future__ import annotations

from litestar import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def add_security_headers(response: Response[object]) -> Response[object]:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Static files are public and versioned by name; everything else may be private.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
