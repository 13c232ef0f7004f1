"""The service's signing key: `HRANITELI_SECRET_KEY` when set, else the random one the
migrations stored in the database (so every process of one installation shares it)."""

from __future__ import annotations

import secrets

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.clock import utc_now
from hraniteli.kit.proof import Proofs
from hraniteli.models import ServiceSecret

SIGNING = "signing"

_loaded: dict[str, bytes] = {}
"""Keys read from each database (by URL): one read per process."""


async def proofs(session: AsyncSession, configured: SecretStr | str | None) -> Proofs:
    """The signer of the links this installation sends."""
    secret = configured.get_secret_value() if isinstance(configured, SecretStr) else configured
    if secret:
        return Proofs(secret.encode())
    url = str(session.get_bind().engine.url)
    key = _loaded.get(url)
    if key is None:
        key = await _stored_key(session)
        _loaded[url] = key
    return Proofs(key)


def forget() -> None:
    """Drop the keys read so far: the next use reads the database again, as a new process would
    (after the stored key was replaced; tests)."""
    _loaded.clear()


async def _stored_key(session: AsyncSession) -> bytes:
    query = select(ServiceSecret.value).where(ServiceSecret.name == SIGNING)
    value = (await session.execute(query)).scalar_one_or_none()
    if value is None:
        # A database whose row was removed: make a new key (links sent before stop working).
        try:
            async with session.begin_nested():
                session.add(ServiceSecret(name=SIGNING, value=secrets.token_hex(32), created_at=utc_now()))
        except IntegrityError:  # another process made it meanwhile
            pass
        value = (await session.execute(query)).scalar_one()
    return value.encode()
