"""Errors as users meet them: structured JSON under /api, friendly pages elsewhere. The one
translation of a `Refusal`, of Litestar's HTTP errors and of the unexpected."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_500_INTERNAL_SERVER_ERROR

from portal.errors import Refusal
from portal.pages import page

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

PAGE_TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "You do not have access to this",
    404: "We could not find that page",
    405: "That action is not available here",
    422: "Some of what you entered needs another look",
    500: "Something went wrong on our side",
}


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path.startswith("/schema")


def error_body(status: int, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The one shape of every API error."""
    return {
        "error": {
            "status": status,
            "code": ERROR_CODES.get(status, "error"),
            "message": message,
            "details": details or [],
        }
    }


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    message = exc.detail or PAGE_TITLES.get(status, "Error")
    details = _validation_details(exc)
    if is_api(request):
        return Response(
            error_body(status, message, details),
            status_code=status,
            media_type=MediaType.JSON,
            headers=exc.headers or {},
        )
    if status == HTTP_401_UNAUTHORIZED:
        return _to_sign_in(request)
    return error_page(request, status, message)


def handle_refusal(request: Request[Any, Any, Any], refusal: Refusal) -> Response[Any]:
    """A refusal nobody caught to show a form again: the API's error, or an error page."""
    if is_api(request):
        details = [{"field": f, "message": m} for f, m in refusal.errors.items()]
        return Response(
            error_body(refusal.status, refusal.message, details),
            status_code=refusal.status,
            media_type=MediaType.JSON,
        )
    return error_page(request, refusal.status, refusal.message)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    status = HTTP_500_INTERNAL_SERVER_ERROR
    message = "An unexpected error occurred. It has been logged; please try again."
    if is_api(request):
        return Response(error_body(status, message), status_code=status, media_type=MediaType.JSON)
    return error_page(request, status, message)


def error_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    title = PAGE_TITLES.get(status, "Error")
    return page(
        request,
        "errors/error.html",
        status_code=status,
        status=status,
        title=title,
        message=message,
    )


def _validation_details(exc: HTTPException) -> list[Any]:
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        return [
            {"field": item.get("key", ""), "message": item.get("message", "")}
            if isinstance(item, dict)
            else {"field": "", "message": str(item)}
            for item in exc.extra
        ]
    return []


def _to_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    target = "/sign-in"
    if request.method == "GET" and request.url.path != "/":
        target += "?next=" + quote(request.url.path, safe="/")
    if request.headers.get("hx-request"):
        # htmx would swap the sign-in page into a fragment; make it navigate instead.
        return Response(content="", status_code=204, headers={"HX-Redirect": target})
    return Redirect(target, status_code=303)
