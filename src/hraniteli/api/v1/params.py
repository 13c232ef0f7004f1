"""What every clean-API router shares at its edge: bounded paging, and no NUL in any text."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Query, Request

from hraniteli.errors import ValidationFailed
from hraniteli.kit.bounds import INT32_MAX
from hraniteli.kit.nul import nul_field

Offset = Annotated[int, Query(ge=0, le=INT32_MAX, description="Rows to skip (0 … 2³¹−1).")]
"""A list's offset: larger ones cannot be bound by SQLite (past 64 bits) or asyncpg, and no
list is that long."""


async def refuse_nul(request: Request) -> None:
    """Path, query and JSON body free of NUL characters, which PostgreSQL cannot store or compare:
    a 422 naming the field instead of a database error (503). A router-wide dependency."""
    found = nul_field(dict(request.path_params)) or next(
        (key for key, value in request.query_params.multi_items() if "\x00" in key + value), None
    )
    if found is None:
        body = await request.body()
        if b"\\u0000" in body:  # a raw NUL byte is not valid JSON: FastAPI refuses it already
            try:
                found = nul_field(orjson.loads(body))
            except orjson.JSONDecodeError:
                found = None  # FastAPI reports the malformed body
    if found is not None:
        raise ValidationFailed("text must not contain NUL characters", details=[{"field": found}])
