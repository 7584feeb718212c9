"""After sign-in, only paths on this site are followed; anything else goes home."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.auth.handlers import safe_next


@pytest.mark.parametrize(
    "target", ["/", "/orders", "/orders/12?tab=history#notes", "/search?q=//x", "/a/b\u00e9"]
)
def test_paths_on_this_site_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "orders",
        "//evil.example",
        "//evil.example/orders",
        "///evil.example",
        "https://evil.example",
        "http://evil.example/orders",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/orders\\..\\x",
        " /orders",
    ],
)
def test_anything_else_goes_home(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example"])
def test_control_characters_cannot_smuggle_a_second_slash(target: str) -> None:
    assert safe_next(target) == "/"


@settings(max_examples=200, deadline=None)
@given(target=st.one_of(st.none(), st.text(max_size=30), st.text(max_size=30).map("/".__add__)))
def test_the_result_is_always_a_local_path(target: str | None) -> None:
    result = safe_next(target)
    assert result == "/" or result == target
    assert result.startswith("/")
    assert not result.startswith("//")
    assert "\\" not in result
