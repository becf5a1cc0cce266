"""Every setting is documented; the docs fail the suite when one is not."""

from __future__ import annotations

from pathlib import Path

from runyard.config import Settings

ROOT = Path(__file__).parents[2]


def test_every_setting_is_in_the_configuration_docs() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"`RUNYARD_{n.upper()}`" not in text]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []
