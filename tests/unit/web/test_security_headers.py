"""Every response gets the security headers it did not set itself."""

from __future__ import annotations

from portal.security_headers import with_security_headers


def test_missing_headers_are_added_and_a_responses_own_are_kept() -> None:
    own = [(b"content-type", b"text/css"), (b"Cache-Control", b"max-age=3600")]
    headers = dict(with_security_headers(own))
    assert headers[b"Cache-Control"] == b"max-age=3600"
    assert b"cache-control" not in headers
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"content-security-policy"].startswith(b"default-src 'self'")
    assert len(with_security_headers([])) == 5
