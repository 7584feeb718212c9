"""What an order is and where it stands: its kinds and its states, each with the words a
person reads."""

from __future__ import annotations

from enum import StrEnum


class OrderKind(StrEnum):
    NEW = "new"
    CHANGE = "change"


STATUS_LABELS = {
    "draft": "a draft",
    "submitted": "submitted, waiting for evaluation",
    "pending_approval": "waiting for approval",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
}
STATUSES = tuple(STATUS_LABELS)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)
