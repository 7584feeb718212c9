"""Bulk invitations from a CSV file: upload, per-row results, live progress."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

ROUTES: list[HTTPRouteHandler] = []
