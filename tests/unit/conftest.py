"""Unit tests are pure: no database, so no per-test wipe of the tables."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Overrides the suite-wide wipe: nothing here touches the database."""
