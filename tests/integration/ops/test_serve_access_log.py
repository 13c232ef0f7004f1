"""A real `hraniteli serve` writes the access log by default, on its standard output, with the
route and status of each request and none of its query."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from hraniteli.db import Database
from tests.conftest import _free_port

pytestmark = pytest.mark.server


def test_serve_logs_each_request_without_its_query(database: Database, database_url: str) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRANITELI_")}
    env["HRANITELI_DATABASE_URL"] = database_url  # log level and access log: the defaults
    process = subprocess.Popen(
        [sys.executable, "-m", "hraniteli", "serve", "--no-migrate", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        editor = httpx.get(f"{url}/webhook/get-slot", params={"secret": "XYZ-not-a-secret"}, timeout=10)
        landing = httpx.get(f"{url}/?from=newcomer", timeout=10)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)

    assert editor.status_code == 200
    assert landing.status_code == 200
    assert "GET /webhook/get-slot 200 " in output, output
    assert "GET / 200 " in output, output
    assert "XYZ" not in output
    assert "newcomer" not in output
    assert '"GET /webhook' not in output  # uvicorn's own access log (with the query) stays off
