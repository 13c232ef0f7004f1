"""`hraniteli serve --demo` as a newcomer runs it: the links it prints point at the port it was
given, and the admin key it prints is the same at every start and kept in the data directory.
uvicorn is replaced by a recorder: everything up to serving runs for real (migrations, seeding)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hraniteli import cli
from hraniteli.app import app_from_env


@pytest.fixture
def newcomer_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh checkout: no HRANITELI_ variables, no .env, a new SQLite file."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("HRANITELI_")]:
        monkeypatch.delenv(name)
    for name in ("HOST", "PORT", "ADMIN_API_KEY"):  # `serve` exports these: undo it afterwards
        monkeypatch.setenv(f"HRANITELI_{name}", "")
        monkeypatch.delenv(f"HRANITELI_{name}")
    monkeypatch.setenv("HRANITELI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo.sqlite3'}")
    return tmp_path


def serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, dict[str, Any]]:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    monkeypatch.delenv("HRANITELI_ADMIN_API_KEY", raising=False)
    result = CliRunner().invoke(cli.cli, ["serve", *args])
    assert result.exit_code == 0, result.output
    return result.output, served


def printed_key(output: str) -> str:
    found = re.search(r"Demo admin API key \(send as X-API-Key\): (\S+)", output)
    assert found, output
    return found[1]


def test_two_demo_starts_on_another_port_print_its_links_and_the_same_kept_key(
    newcomer_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, served = serve(monkeypatch, "--demo", "--port", "9123")
    second, _ = serve(monkeypatch, "--demo", "--port", "9123")

    links = re.findall(r"\S+/webhook/get-slot\?secret=\S+", first)
    assert len(links) >= 5, first
    assert all(link.startswith("http://127.0.0.1:9123/webhook/get-slot?secret=") for link in links)
    assert served["port"] == 9123
    assert ":8000" not in first
    key = printed_key(first)
    kept = newcomer_env / "var" / "demo-admin-key"
    assert printed_key(second) == key
    assert "nothing seeded" in second  # the second start found the demo data in place
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert str(kept) in first  # the newcomer is told where it lives
    assert served["log_config"]["loggers"]["hraniteli.access"]["level"] == "INFO"


async def test_messages_built_by_the_served_app_link_to_the_given_port(
    newcomer_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, "--no-migrate", "--port", "9124")  # the app factory reads what serve exported
    app = app_from_env()

    await app.state.ctx.database.dispose()
    assert app.state.ctx.settings.public_url == "http://127.0.0.1:9124"
