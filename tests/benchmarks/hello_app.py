"""A bare Litestar hello world, the baseline of ``bench_requests``: nothing but routing and
JSON serialisation, served by the same uvicorn settings as the portal."""

from __future__ import annotations

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar([hello])
