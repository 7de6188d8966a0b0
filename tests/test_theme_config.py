"""The light and the dark theme of .streamlit/config.toml: both complete, both readable
(WCAG contrast of text, links and button text), measured from the file itself."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"
COLOURS = (
    "primaryColor",
    "backgroundColor",
    "secondaryBackgroundColor",
    "textColor",
    "linkColor",
    "borderColor",
)


def _theme() -> dict[str, Any]:
    theme: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["theme"]
    return theme


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_both_themes_are_offered_and_none_is_forced() -> None:
    theme = _theme()
    assert "base" not in theme, "a base would pin one theme and hide the other"
    for name in ("light", "dark"):
        assert set(COLOURS) <= set(theme[name]), name
        assert "backgroundColor" in theme[name]["sidebar"], name
    # A colour set in [theme] itself would override the same one in both.
    assert not set(COLOURS) & set(theme)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_each_theme_is_readable(name: str) -> None:
    colours = _theme()[name]
    ground = colours["backgroundColor"]
    assert _contrast(colours["textColor"], ground) >= 7
    assert _contrast(colours["textColor"], colours["secondaryBackgroundColor"]) >= 7
    assert _contrast(colours["linkColor"], ground) >= 4.5
    # Primary buttons carry white text; the primary colour marks controls on the ground.
    assert _contrast("#ffffff", colours["primaryColor"]) >= 4.5
    assert _contrast(colours["primaryColor"], ground) >= 3
    assert _luminance(ground) < 0.02 if name == "dark" else _luminance(ground) > 0.9
