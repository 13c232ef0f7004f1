"""A service without a bot token starts without loading aiogram: building its hundreds of
Telegram types takes seconds (5–10 s on a shared machine), paid by every `serve` and `worker`
process at start. With a token it is loaded before serving (`sender.preload_telegram`)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import hraniteli.cli
from hraniteli.app import app_from_env
from hraniteli.config import load_settings
from hraniteli.db import Database
from hraniteli.lifecycle.service import BackgroundWork

app = app_from_env()
settings = load_settings()
work = BackgroundWork.from_settings(settings, Database(settings.database_url), clock=lambda: None)
print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('aiogram')}))
"""


def test_without_a_bot_token_the_app_and_the_worker_do_not_load_aiogram() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRANITELI_TELEGRAM")}
    env["HRANITELI_DATABASE_URL"] = "sqlite+aiosqlite:///:memory:"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_preloading_loads_what_a_send_and_an_update_need() -> None:
    code = (
        "import sys; from hraniteli.notifications.sender import preload_telegram; preload_telegram(); "
        "print('hraniteli.notifications.bot_api' in sys.modules, 'hraniteli.bot.handlers' in sys.modules)"
    )
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "True True"
