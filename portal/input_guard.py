"""One check at the edge of the API, before any handler reads a body: a JSON text field
holding a control character is refused (422, one message per field, nested fields by path),
so no endpoint can forget it and nothing is stored. Forms are checked by their domain's
validation, which shows the message next to the field."""

from __future__ import annotations

from typing import Any

from litestar import Request

from portal.errors import InputError
from portal.text import control_character_errors

_WRITES = frozenset({"POST", "PUT", "PATCH"})


async def refuse_control_characters(request: Request[Any, Any, Any]) -> None:
    if request.method not in _WRITES:
        return
    if request.content_type[0] != "application/json":
        return
    try:
        body = await request.json()
    except Exception:
        return  # malformed JSON: the handler's own decoding refuses it
    errors = control_character_errors(body)
    if errors:
        fields = ", ".join(sorted(errors))
        raise InputError(
            errors, f"Remove the control characters (such as a NUL byte) from {fields}."
        )
