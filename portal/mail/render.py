"""Email bodies from templates under templates/email/: NAME.txt and NAME.html."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal.settings import PROJECT_ROOT


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates" / "email"),
        autoescape=select_autoescape(["html"]),
        # A missing value is a bug, not an empty line in a customer's email.
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_email(name: str, subject: str, **context: Any) -> RenderedEmail:
    environment = _environment()
    return RenderedEmail(
        subject=subject,
        text=environment.get_template(f"{name}.txt").render(**context),
        html=environment.get_template(f"{name}.html").render(**context),
    )
