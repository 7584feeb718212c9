"""Who may be deactivated: the rule the service enforces and the user's page shows."""

from __future__ import annotations

import pytest

from portal.users.service import why_not_deactivate


@pytest.mark.parametrize(
    ("is_owner", "by_themselves", "active_admin", "others", "expected"),
    [
        (False, False, False, 0, None),
        (False, False, True, 1, None),
        (False, True, True, 0, "The last active admin of the organisation cannot be deactivated."),
        (True, False, True, 5, "The owner of the organisation cannot be deactivated by others."),
        (True, True, True, 1, None),
        (True, True, True, 0, "The last active admin of the organisation cannot be deactivated."),
    ],
)
def test_why_not_deactivate(
    is_owner: bool, by_themselves: bool, active_admin: bool, others: int, expected: str | None
) -> None:
    assert (
        why_not_deactivate(
            is_owner=is_owner,
            by_themselves=by_themselves,
            active_admin=active_admin,
            other_active_admins=others,
        )
        == expected
    )
