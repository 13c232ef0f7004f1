"""The demo's admin key is made once, kept in the data directory (readable by its owner only)
and reused by every later `serve --demo`; a configured key always wins."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import typer

from hraniteli.cli import demo_admin_key
from hraniteli.config import Settings


def settings(data_dir: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_two_demo_startups_use_one_key_kept_in_the_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    first = demo_admin_key(settings(data_dir))
    second = demo_admin_key(settings(data_dir))

    assert first is not None
    assert second == first
    assert first.path == data_dir / "demo-admin-key"
    assert first.path.read_text().strip() == first.key
    assert len(first.key) >= 32
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600


def test_another_data_directory_gets_another_key(tmp_path: Path) -> None:
    one = demo_admin_key(settings(tmp_path / "one"))
    two = demo_admin_key(settings(tmp_path / "two"))

    assert one is not None
    assert two is not None
    assert one.key != two.key


def test_a_configured_admin_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    assert demo_admin_key(settings(tmp_path, admin_api_key="configured")) is None
    assert list(tmp_path.iterdir()) == []


def test_an_emptied_key_file_is_refused_rather_than_serving_without_a_key(tmp_path: Path) -> None:
    (tmp_path / "demo-admin-key").write_text("\n")

    with pytest.raises(typer.BadParameter, match="holds no key"):
        demo_admin_key(settings(tmp_path))
