"""Links follow the address the server really listens on, and the service's files live in one
data directory, unless the deployer names them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hraniteli.config import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_deployer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "PUBLIC_URL", "DATA_DIR", "DATABASE_URL"):
        monkeypatch.delenv(f"HRANITELI_{name}", raising=False)


def test_the_public_url_defaults_to_where_the_server_listens() -> None:
    assert settings().public_url == "http://127.0.0.1:8000"
    assert settings(port=9123).public_url == "http://127.0.0.1:9123"
    assert settings(host="192.168.1.20", port=8080).public_url == "http://192.168.1.20:8080"


def test_the_port_from_the_environment_moves_the_links(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRANITELI_PORT", "9001")  # what `serve --port 9001` exports

    assert settings().public_url == "http://127.0.0.1:9001"


def test_listening_on_every_interface_gives_links_to_this_machine() -> None:
    assert settings(host="0.0.0.0", port=8080).public_url == "http://127.0.0.1:8080"
    assert settings(host="::", port=8080).public_url == "http://[::1]:8080"
    assert settings(host="::1", port=8080).public_url == "http://[::1]:8080"


def test_an_explicit_public_url_wins_over_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRANITELI_PUBLIC_URL", "https://psy.example.org")

    assert settings(port=9123).public_url == "https://psy.example.org"


def test_the_data_directory_is_the_sqlite_files_directory_unless_named(tmp_path: Path) -> None:
    assert settings().data_dir == Path("var")
    beside = settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'db' / 'h.sqlite3'}")
    assert beside.data_dir == tmp_path / "db"
    postgres = settings(database_url="postgresql+asyncpg://u@127.0.0.1:5432/h")
    assert postgres.data_dir == Path("var")
    assert settings(database_url="sqlite+aiosqlite:///:memory:").data_dir == Path("var")
    assert settings(data_dir=tmp_path / "elsewhere").data_dir == tmp_path / "elsewhere"
