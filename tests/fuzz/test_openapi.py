"""Schemathesis over the OpenAPI document, against a real server process: whatever it sends
(valid and invalid shapes, huge numbers, odd strings), the service never answers 5xx.

The budget is small and the examples derandomized, so the suite stays fast and repeatable;
`HRANITELI_FUZZ_EXAMPLES=200` explores more when run by hand."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from hraniteli.app import create_app
from hraniteli.config import Settings
from tests.conftest import ADMIN, LiveServer

EXAMPLES = int(os.environ.get("HRANITELI_FUZZ_EXAMPLES", "20"))

SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.mark.server
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS])
def test_no_input_gets_a_server_error(live_server: LiveServer, operation: Any, mode: GenerationMode) -> None:
    """Valid shapes with the service key (the deepest reach); invalid ones without it and with it."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        for headers in (ADMIN,) if mode == GenerationMode.POSITIVE else (ADMIN, {}):
            response = case.call(base_url=live_server.url, headers=headers, timeout=60)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]} -> "
                f"{response.status_code}: {response.text[:300]}"
            )

    try:
        check()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE, "valid examples can always be made"
        # an operation without parameters or body has nothing to make invalid
