"""Psychologist profiles: create, edit, look up by name/secret/Telegram id, rotate secrets."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hraniteli.kit.proof import Proofs, Purpose
from hraniteli.models import Education, Psychologist
from hraniteli.psychologists import repository
from hraniteli.psychologists.schemas import EducationItem, PsychologistCreate, PsychologistUpdate

SECRET_BYTES = 24
"""192 bits of randomness in every schedule-editor link (≥ 128 required)."""


def new_editor_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _apply(psychologist: Psychologist, data: dict[str, object]) -> None:
    education = data.pop("education", None)
    for key, value in data.items():
        setattr(psychologist, key, value)
    if education is not None:
        assert isinstance(education, list)
        psychologist.education = [
            Education(position=index, **EducationItem.model_validate(item).model_dump())
            for index, item in enumerate(education)
        ]


async def _flush_unique(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        field = next((f for f in ("telegram_id", "name", "editor_secret") if f in text), None)
        if "unique" not in text or field is None:
            raise  # not a duplicate: the generic 409, never a made-up name conflict
        raise Conflict(
            f"a psychologist with this {field} already exists", details=[{"field": field}]
        ) from exc


async def create_psychologist(
    session: AsyncSession, *, data: PsychologistCreate, now: datetime, default_time_zone: str
) -> Psychologist:
    fields = data.model_dump(exclude_none=True)
    fields.setdefault("time_zone", default_time_zone)
    psychologist = Psychologist(
        id=uuid.uuid4(),
        editor_secret=new_editor_secret(),
        additional_modals=[],
        skills=[],
        queries=[],
        extra={},
        created_at=now,
        updated_at=now,
        education=[],
    )
    _apply(psychologist, fields)
    session.add(psychologist)
    await _flush_unique(session, "create")
    return psychologist


async def get_psychologist(session: AsyncSession, psychologist_id: uuid.UUID) -> Psychologist:
    psychologist = await repository.get_psychologist(session, psychologist_id, with_education=True)
    if psychologist is None:
        raise NotFound("no such psychologist")
    return psychologist


async def update_psychologist(
    session: AsyncSession, *, psychologist_id: uuid.UUID, data: PsychologistUpdate, now: datetime
) -> Psychologist:
    psychologist = await get_psychologist(session, psychologist_id)
    fields = data.model_dump(exclude_unset=True)  # the schema refuses null where a value is kept
    merged_min = fields.get("min_client_age", psychologist.min_client_age)
    merged_max = fields.get("max_client_age", psychologist.max_client_age)
    if merged_min > merged_max:
        raise ValidationFailed(
            "min_client_age must not exceed max_client_age",
            details=[{"field": "min_client_age" if "min_client_age" in fields else "max_client_age"}],
        )
    low_price = fields.get("min_price", psychologist.min_price)
    high_price = fields.get("max_price", psychologist.max_price)
    if low_price is not None and high_price is not None and low_price > high_price:
        raise ValidationFailed(
            "min_price must not exceed max_price",
            details=[{"field": "min_price" if "min_price" in fields else "max_price"}],
        )
    _apply(psychologist, fields)
    psychologist.updated_at = now
    psychologist.schedule_revision += 1  # names and activity appear in cached schedules
    await _flush_unique(session, "update")
    return psychologist


async def delete_psychologist(session: AsyncSession, *, psychologist_id: uuid.UUID) -> None:
    psychologist = await get_psychologist(session, psychologist_id)
    await session.delete(psychologist)
    await session.flush()


async def rotate_secret(session: AsyncSession, *, psychologist_id: uuid.UUID, now: datetime) -> Psychologist:
    psychologist = await get_psychologist(session, psychologist_id)
    psychologist.editor_secret = new_editor_secret()
    psychologist.updated_at = now
    await session.flush()
    return psychologist


async def list_psychologists(
    session: AsyncSession, *, active_only: bool = False, offset: int = 0, limit: int | None = None
) -> list[Psychologist]:
    return await repository.list_psychologists(
        session, active_only=active_only, with_education=True, offset=offset, limit=limit
    )


async def psychologist_by_secret(session: AsyncSession, secret: str | None) -> Psychologist:
    """The psychologist whose editor link carries `secret`; Forbidden for anything else."""
    if not secret or len(secret) > 256:
        raise Forbidden("the schedule editor link is not valid")
    psychologist = await repository.get_psychologist_by_secret(session, secret)
    if psychologist is None or not secrets.compare_digest(psychologist.editor_secret, secret):
        raise Forbidden("the schedule editor link is not valid")
    return psychologist


async def find_by_telegram_id(session: AsyncSession, telegram_id: str | None) -> Psychologist | None:
    """The psychologist with this Telegram id (the bot's and the Helpful Hand pages' key)."""
    cleaned = (telegram_id or "").strip()
    if not cleaned:
        return None
    return await repository.get_psychologist_by_telegram_id(session, cleaned)


async def psychologist_by_name(session: AsyncSession, name: str | None) -> Psychologist:
    """Resolve a display name (the compat layer's key) to a psychologist."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise NotFound("psychologist name is empty")
    psychologist = await repository.get_psychologist_by_name(session, cleaned)
    if psychologist is None:
        raise NotFound(f"no psychologist named {cleaned!r}")
    return psychologist


LINK_NOT_YOURS = (
    "Ссылка неполная или устарела: откройте её из сообщения бота целиком или напишите администратору."
)


async def psychologist_by_proof(
    session: AsyncSession,
    *,
    proofs: Proofs,
    token: str | None,
    name: str | None = None,
    telegram_id: str | None = None,
    trusted: bool = False,
) -> Psychologist:
    """The psychologist a link names (by display name or Telegram id) when the link carries the
    proof the service issued for them (`trusted`: the caller holds the service key). Unknown and
    unproven look the same (Forbidden)."""
    if telegram_id is not None:
        psychologist = await find_by_telegram_id(session, telegram_id)
    else:
        cleaned = " ".join((name or "").split())
        psychologist = await repository.get_psychologist_by_name(session, cleaned) if cleaned else None
    if psychologist is None or not (
        trusted or proofs.is_valid(Purpose.PSYCHOLOGIST, str(psychologist.id), token)
    ):
        raise Forbidden(LINK_NOT_YOURS)
    return psychologist


def proof_of(proofs: Proofs, psychologist: Psychologist) -> str:
    """The token that proves a link was sent to this psychologist."""
    return proofs.token(Purpose.PSYCHOLOGIST, str(psychologist.id))


async def psychologists_by_names(session: AsyncSession, names: list[str]) -> list[Psychologist]:
    cleaned = [" ".join(name.split()) for name in names if name.strip()]
    return await repository.list_psychologists(session, names=cleaned)
