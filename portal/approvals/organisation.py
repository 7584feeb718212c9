"""The organisation's approval settings: when a waiting level reminds its approvers and when it
goes to the admins, and whether each level of an order needs a different person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from portal.activity.log import Actor, Subject, SubjectKind, log_action
from portal.approvals.completion import settle_after_people_change
from portal.approvals.directory import distinct_levels_of
from portal.approvals.policies import whole_number
from portal.db import write_transaction
from portal.jobs import wake_delivery
from portal.organisations.tables import Organisation

MAX_HOURS = 24 * 30


def check_timing(fields: Mapping[str, Any]) -> tuple[tuple[int, int] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    hours: dict[str, int] = {}
    for key in ("reminder_hours", "escalation_hours"):
        try:
            hours[key] = whole_number(fields.get(key, ""), 1, MAX_HOURS)
        except ValueError as error:
            errors[key] = str(error)
    if not errors and hours["escalation_hours"] <= hours["reminder_hours"]:
        errors["escalation_hours"] = "Escalate later than the reminder."
    if errors:
        return None, errors
    return (hours["reminder_hours"], hours["escalation_hours"]), {}


async def timing_of(organisation_id: UUID) -> dict[str, Any]:
    row = (
        await Organisation.select(
            Organisation.approval_reminder_hours.as_alias("reminder_hours"),
            Organisation.approval_escalation_hours.as_alias("escalation_hours"),
        )
        .where(Organisation.id == organisation_id)
        .first()
    )
    assert row is not None
    return dict(row)


async def save_timing(actor: Actor, reminder_hours: int, escalation_hours: int) -> None:
    """Applies to levels that start waiting from now on; waiting ones keep their clocks."""
    async with write_transaction():
        before = await timing_of(actor.organisation_id)
        await Organisation.update(
            {
                Organisation.approval_reminder_hours: reminder_hours,
                Organisation.approval_escalation_hours: escalation_hours,
            }
        ).where(Organisation.id == actor.organisation_id)
        await log_action(
            "organisation.approval_timing_changed",
            organisation_id=actor.organisation_id,
            about=Subject(SubjectKind.ORGANISATION, actor.organisation_id),
            actor_id=actor.user_id,
            origin=actor.origin,
            data={
                "before": before,
                "after": {"reminder_hours": reminder_hours, "escalation_hours": escalation_hours},
            },
        )


async def save_distinct_levels(actor: Actor, distinct: bool, base_url: str) -> None:
    """Whether each level of an order needs a different person. Applies to every decision
    from now on, waiting orders included: their queues are worked out again (and a level its
    remaining approvers have all approved moves on)."""
    async with write_transaction():
        before = await distinct_levels_of(actor.organisation_id)
        if before == distinct:
            return
        await Organisation.update({Organisation.approval_distinct_levels: distinct}).where(
            Organisation.id == actor.organisation_id
        )
        emails = (await settle_after_people_change(actor.organisation_id, base_url)).emails
        await log_action(
            "organisation.approval_levels_changed",
            organisation_id=actor.organisation_id,
            about=Subject(SubjectKind.ORGANISATION, actor.organisation_id),
            actor_id=actor.user_id,
            origin=actor.origin,
            data={"before": {"distinct_levels": before}, "after": {"distinct_levels": distinct}},
        )
    wake_delivery(emails)
