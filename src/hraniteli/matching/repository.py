"""Queries matching and automatch need."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import Slot, SlotState


async def list_free_slots_at(
    session: AsyncSession, *, psychologist_ids: Sequence[uuid.UUID], instants: Sequence[datetime]
) -> list[Slot]:
    if not psychologist_ids or not instants:
        return []
    query = select(Slot).where(
        Slot.psychologist_id.in_(list(psychologist_ids)),
        Slot.start_at.in_(list(instants)),
        Slot.state == SlotState.FREE,
    )
    return list((await session.execute(query)).scalars())
