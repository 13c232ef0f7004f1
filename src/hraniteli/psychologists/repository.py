"""Psychologist queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hraniteli.models import Psychologist


async def get_psychologist(
    session: AsyncSession, psychologist_id: uuid.UUID, *, with_education: bool = False
) -> Psychologist | None:
    query = select(Psychologist).where(Psychologist.id == psychologist_id)
    if with_education:
        query = query.options(selectinload(Psychologist.education))
    return (await session.execute(query)).scalar_one_or_none()


async def get_psychologist_by_secret(session: AsyncSession, secret: str) -> Psychologist | None:
    query = select(Psychologist).where(Psychologist.editor_secret == secret)
    return (await session.execute(query)).scalar_one_or_none()


async def get_psychologist_by_name(session: AsyncSession, name: str) -> Psychologist | None:
    query = select(Psychologist).where(Psychologist.name == name)
    return (await session.execute(query)).scalar_one_or_none()


async def get_psychologist_by_telegram_id(session: AsyncSession, telegram_id: str) -> Psychologist | None:
    query = select(Psychologist).where(Psychologist.telegram_id == telegram_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_psychologists(
    session: AsyncSession,
    *,
    active_only: bool = False,
    names: Sequence[str] | None = None,
    with_education: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> list[Psychologist]:
    query = select(Psychologist).order_by(Psychologist.name)
    if active_only:
        query = query.where(Psychologist.is_active.is_(True))
    if names is not None:
        query = query.where(Psychologist.name.in_(list(names)))
    if with_education:
        query = query.options(selectinload(Psychologist.education))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def lock_psychologist(session: AsyncSession, psychologist_id: uuid.UUID) -> Psychologist | None:
    query = select(Psychologist).where(Psychologist.id == psychologist_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
