"""The languages and time zones a profile may hold."""

from __future__ import annotations

from zoneinfo import available_timezones

from portal.users.profile import LANGUAGES, TIME_ZONES, language_problem, time_zone_problem


def test_every_zone_of_the_system_is_offered_in_order() -> None:
    assert set(TIME_ZONES) == available_timezones()
    assert list(TIME_ZONES) == sorted(TIME_ZONES)
    assert "Europe/London" in TIME_ZONES and "Asia/Kolkata" in TIME_ZONES


def test_a_zone_outside_the_list_is_refused() -> None:
    assert time_zone_problem("Europe/London") is None
    for bad in ("Mars/Olympus", "", "europe/london", "Europe/London ", "../../etc/passwd"):
        assert time_zone_problem(bad) == "Choose a time zone from the list, such as Europe/London."


def test_only_the_offered_languages_are_accepted() -> None:
    assert "en-GB" in LANGUAGES and all(LANGUAGES.values())
    assert language_problem("de-DE") is None
    for bad in ("english please", "en", "xx-XX", "EN-GB", ""):
        assert language_problem(bad) == "Choose one of the languages offered, such as en-GB."
