"""Liveness and readiness, for load balancers and orchestrators. No authentication."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, Router, get
from redis.asyncio import Redis

from portal import db
from portal.permissions.guards import public

logger = logging.getLogger(__name__)


@get("/health", opt=public(), tags=["health"], summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt=public(), tags=["health"], summary="The database and Redis are reachable")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    checks: dict[str, str] = {"database": "ok"}
    try:
        await db.ping()
    except Exception:
        logger.exception("readiness: database unreachable")
        checks["database"] = "unreachable"
    redis: Redis | None = request.app.state.get("redis")
    if redis is not None:
        checks["redis"] = "ok"
        try:
            await redis.ping()
        except Exception:
            logger.exception("readiness: redis unreachable")
            checks["redis"] = "unreachable"
    ok = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
    )


PROBES = Router(
    "/",
    route_handlers=[health, ready],
)
ROUTERS = [PROBES]
