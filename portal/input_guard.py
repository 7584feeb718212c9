"""The API's door, before any handler reads a body: a body that is not what the endpoint
declares is refused with a clear answer and nothing is stored.

- a write that needs a body and has none: 400 "the request body is missing";
- a body that is not JSON: 415 (a `text/plain` body is not read as JSON), or 400 if unparseable;
- a value of the wrong type: 422 with the field, never silently converted ("3" is no number);
- a text field holding a control character (a NUL byte, an escape, a bidirectional
  override): 422 with the field, nested fields by path.

Forms are checked by their domain's validation, which shows the message next to the field."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request

from portal.errors import InputError, Refusal
from portal.text import control_character_errors

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON = "application/json"
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$")
_FIELD_NAMED = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]+)`")


async def screen_body(request: Request[Any, Any, Any]) -> None:
    if request.method not in _WRITES:
        return
    declared = request.route_handler.parsed_fn_signature.parameters.get("data")
    if declared is None:
        if request.content_type[0] == _JSON:
            await _refuse_control_characters(await _json(request))
        return
    if not (await request.body()).strip():
        raise Refusal("The request body is missing: send a JSON object.", status=400)
    if request.content_type[0] != _JSON:
        raise Refusal("Send the body as JSON, with Content-Type: application/json.", status=415)
    body = await _json(request)
    await _refuse_control_characters(body)
    try:
        msgspec.convert(body, declared.annotation, strict=True)
    except msgspec.ValidationError as error:
        field, message = field_of(str(error))
        raise InputError({field: message}, f"{message} ({field}).") from None


def field_of(error: str) -> tuple[str, str]:
    """("quantity", "Expected `int`, got `str`") from msgspec's "... - at `$.quantity`"."""
    found = _AT.match(error)
    message = found.group("message") if found else error
    path = found.group("path") if found else None
    if not path:
        named = _FIELD_NAMED.search(message)
        path = named.group("field") if named else "body"
    return path, message


async def _json(request: Request[Any, Any, Any]) -> Any:
    try:
        return await request.json()
    except Exception:
        raise Refusal("The request body is not valid JSON.", status=400) from None


async def _refuse_control_characters(body: Any) -> None:
    errors = control_character_errors(body)
    if errors:
        fields = ", ".join(sorted(errors))
        raise InputError(
            errors, f"Remove the control characters (such as a NUL byte) from {fields}."
        )
