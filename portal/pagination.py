"""Keyset pages: the cursor in a "next page" link holds the last row's sort value and id, so a
deep page walks the index instead of counting past every earlier row."""

from __future__ import annotations

import base64
import json
from uuid import UUID

from portal.errors import Refusal


class BadListQuery(Refusal):
    """A page link that was tampered with or outlived its list (`after`), or a filter with an
    unknown value (named by `field`). The API answers it as that field refused; a page shows
    `problem` above the list."""

    def __init__(self, problem: str, field: str = "after") -> None:
        super().__init__(errors={field: problem})
        self.problem = problem


def encode_cursor(sort_value: str, row_id: UUID) -> str:
    raw = json.dumps([sort_value, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return str(value), UUID(str(row_id))
    except (ValueError, TypeError) as error:
        raise BadListQuery(
            "That page link is not valid any more; start from the first page."
        ) from error
