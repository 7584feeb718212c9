"""The one refusal type. Every service raises a `Refusal` (or a subclass named for its domain)
when it says no; `portal.error_handlers` turns an uncaught one into the API's error shape or an
error page."""

from __future__ import annotations

from collections.abc import Mapping

FIELDS_MESSAGE = "Some fields need another look."


class Refusal(Exception):
    """What every service raises when it refuses: nothing was changed. `status` is the HTTP
    answer, `message` the sentence a person reads, `errors` one message per refused field.
    One exception handler turns it into the API's error shape or an error page; pages catch it
    only to show the form again with what the user typed."""

    status = 422

    def __init__(
        self,
        message: str = "",
        errors: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        self.errors = dict(errors or {})
        self.message = message or FIELDS_MESSAGE
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        # Logs and the command line show the field messages too, not only the summary.
        return " ".join([self.message, *self.errors.values()])


class InputError(Refusal):
    """Input refused with a message per field, found by a handler's own checks."""

    def __init__(self, errors: Mapping[str, str], message: str = FIELDS_MESSAGE) -> None:
        super().__init__(message, errors, 422)


class NotFound(Refusal):
    """No such record in this organisation, whether or not one exists in another: another
    tenant's id answers exactly as an id that does not exist."""

    status = 404

    def __init__(self, what: str) -> None:
        super().__init__(f"No such {what}.")
        self.what = what
