"""The README's first command, end to end: `hraniteli serve --demo` on a fresh SQLite file."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.server


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRANITELI_")}
    env.update(
        HRANITELI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}",
        HRANITELI_LOG_LEVEL="warning",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "hraniteli", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.startswith("Hraniteli on"):
            break
    try:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, "".join(output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        process.stdout.close()


def test_demo_serves_editor_schedule_and_booking(demo_server: tuple[str, str]) -> None:
    url, printed = demo_server
    secrets = re.findall(r"get-slot\?secret=(\S+)", printed)
    key = re.search(r"Demo admin API key \(send as X-API-Key\): (\S+)", printed)
    assert len(secrets) >= 5, printed
    assert key, printed

    grid = httpx.get(f"{url}/webhook/get-slot", params={"secret": secrets[0]}).json()
    assert len(grid[0]["items"]) == 28

    schedule = httpx.post(f"{url}/webhook/get-aggregated-all", json={}).json()
    rows = [row for day in schedule[0]["items"] for hour in day["slots"].values() for row in hour]
    assert len({row["psychologist"] for row in rows}) >= 5
    assert all(row["state"] == "Свободен" for row in rows)

    slot = rows[0]
    booked = httpx.post(f"{url}/api/v1/bookings", json={"slot_id": slot["id"]}, headers={"X-API-Key": key[1]})
    assert booked.status_code == 201

    cards = {card["name"]: card for card in httpx.get(f"{url}/cards").json()}
    owner_secret = next(
        s
        for s in secrets
        if any(
            entry["id"] == slot["id"] and entry["status"] == "Забронирован"
            for day in httpx.get(f"{url}/webhook/get-slot", params={"secret": s}).json()[0]["items"]
            for hour in day["slots"].values()
            for entry in hour
        )
    )
    assert owner_secret
    assert slot["psychologist"] in cards
    after = httpx.post(f"{url}/webhook/get-aggregated-all", json={}).json()
    assert slot["id"] not in {r["id"] for d in after[0]["items"] for h in d["slots"].values() for r in h}
