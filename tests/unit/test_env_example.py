"""`.env.example` documents every setting, and what it shows parses."""

from __future__ import annotations

import re
from pathlib import Path

from hraniteli.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_documented() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = {name.lower() for name in re.findall(r"HRANITELI_([A-Z0-9_]+)=", text)}

    assert set(Settings.model_fields) - documented == set()


def test_the_uncommented_example_values_parse() -> None:
    values = dict(
        re.findall(r"^HRANITELI_([A-Z0-9_]+)=(.*)$", EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE)
    )

    settings = Settings(_env_file=None, **{key.lower(): value for key, value in values.items()})  # type: ignore[arg-type]

    assert settings.schedule_closed_weekdays == [6]
    assert settings.telegram_rate_per_second == 30
