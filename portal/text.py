"""What typed text may hold. Pure: a control character (a NUL byte, an escape, a bidirectional
override that makes a name read backwards) is refused in every text field; line breaks and
tabs only where a field is meant to hold several lines."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

# Fields written over several lines: notes, descriptions, reasons.
MULTILINE_FIELDS = frozenset({"notes", "description", "reason", "detail"})
# Passwords are hashed, never shown: whatever a password manager types is the password.
UNCHECKED_FIELDS = frozenset({"password", "password_again", "_csrf_token"})
_LINE_CONTROLS = frozenset("\n\r\t")
# Format characters that reorder or hide text (bidi embeddings, overrides and isolates).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
CONTROL_MESSAGE = "Remove the control characters (such as a NUL byte) from this field."


def has_control_characters(text: str, multiline: bool = False) -> bool:
    allowed = _LINE_CONTROLS if multiline else frozenset()
    return any(
        (unicodedata.category(char) == "Cc" and char not in allowed) or char in _BIDI_CONTROLS
        for char in text
    )


def control_character_errors(value: Any, field: str = "") -> dict[str, str]:
    """One message per text field (dotted path for nested JSON) holding a control character."""
    errors: dict[str, str] = {}
    if isinstance(value, str):
        name = field.rsplit(".", 1)[-1]
        if name not in UNCHECKED_FIELDS and has_control_characters(
            value, multiline=name in MULTILINE_FIELDS
        ):
            errors[field or "body"] = CONTROL_MESSAGE
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            if has_control_characters(key_text):
                errors[field or "body"] = CONTROL_MESSAGE
            errors |= control_character_errors(item, f"{field}.{key_text}" if field else key_text)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors |= control_character_errors(item, f"{field}[{index}]" if field else f"[{index}]")
    return errors


def add_control_character_errors(errors: dict[str, str], fields: Mapping[str, object]) -> None:
    """A domain check's last step: a field refused for nothing else is refused for holding a
    control character, so a form shows the message next to that field."""
    for name, message in control_character_errors(dict(fields)).items():
        errors.setdefault(name, message)
