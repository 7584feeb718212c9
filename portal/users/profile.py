"""The languages and time zones a user's profile offers, and the rule that a value must be one
of them: pages choose from lists, the API is refused anything else."""

from __future__ import annotations

from zoneinfo import available_timezones

# Language tags the portal supports, each named in its own language (and in English).
LANGUAGES: dict[str, str] = {
    "en-GB": "English (United Kingdom)",
    "en-US": "English (United States)",
    "de-DE": "Deutsch (German)",
    "fr-FR": "Français (French)",
    "es-ES": "Español (Spanish)",
    "it-IT": "Italiano (Italian)",
    "nl-NL": "Nederlands (Dutch)",
    "pt-PT": "Português (Portuguese)",
    "pl-PL": "Polski (Polish)",
    "sv-SE": "Svenska (Swedish)",
    "da-DK": "Dansk (Danish)",
    "fi-FI": "Suomi (Finnish)",
}

# Read once: the system's IANA zones, in the order a list shows them.
TIME_ZONES: tuple[str, ...] = tuple(sorted(available_timezones()))
_KNOWN_ZONES = frozenset(TIME_ZONES)


def language_problem(tag: str) -> str | None:
    """Why a language cannot be stored (None: it can)."""
    if tag in LANGUAGES:
        return None
    return "Choose one of the languages offered, such as en-GB."


def time_zone_problem(name: str) -> str | None:
    """Why a time zone cannot be stored (None: it can)."""
    if name in _KNOWN_ZONES:
        return None
    return "Choose a time zone from the list, such as Europe/London."
