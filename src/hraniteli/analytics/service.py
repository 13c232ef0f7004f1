"""Form funnel analytics (init/step/answers) and research questionnaire rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.errors import InvalidInput, NotFound
from hraniteli.models import FormAnswer, FormSession, FormStep, ResearchResponse

MAX_LABEL = 200


def _label(value: Any, field: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not text or text in ("null", "undefined"):
        raise InvalidInput(f"`{field}` is required", details=[{"field": field}])
    return text[:MAX_LABEL]


async def _session_for(session: AsyncSession, number: str, now: datetime) -> FormSession:
    found = (
        await session.execute(select(FormSession).where(FormSession.number == number))
    ).scalar_one_or_none()
    if found is not None:
        return found
    form_session = FormSession(id=uuid.uuid4(), number=number, started_at=now, updated_at=now)
    try:
        async with session.begin_nested():
            session.add(form_session)
            await session.flush()
    except IntegrityError:
        return (await session.execute(select(FormSession).where(FormSession.number == number))).scalar_one()
    return form_session


async def _step(session: AsyncSession, number: str, step: str, now: datetime) -> None:
    exists = await session.execute(
        select(FormStep.id).where(FormStep.number == number, FormStep.step == step)
    )
    if exists.first() is None:
        try:
            async with session.begin_nested():
                session.add(FormStep(id=uuid.uuid4(), number=number, step=step, at=now))
                await session.flush()
        except IntegrityError:
            pass


async def start_form(
    session: AsyncSession, *, number: Any, form_type: Any, step: Any, now: datetime
) -> FormSession:
    """`init-form-tracking`: the form was opened (once per number; repeats are harmless)."""
    number_text = _label(number, "ticket_id")[:64]
    form_session = await _session_for(session, number_text, now)
    form_session.form_type = _label(form_type, "form_type")
    step_text = str(step).strip()[:MAX_LABEL] if step else "Начало"
    form_session.last_step = form_session.last_step or step_text
    form_session.updated_at = now
    await _step(session, number_text, step_text, now)
    return form_session


async def reach_step(session: AsyncSession, *, number: Any, step: Any, now: datetime) -> None:
    """`update-tracking-step`: fire-and-forget; an unknown number starts a session."""
    number_text = _label(number, "ticket_id")[:64]
    step_text = _label(step, "step")
    form_session = await _session_for(session, number_text, now)
    form_session.last_step = step_text
    form_session.updated_at = now
    await _step(session, number_text, step_text, now)


async def record_answer(session: AsyncSession, *, number: Any, field: Any, value: Any, now: datetime) -> None:
    """`step-analytics`: the latest value of one field."""
    number_text = _label(number, "ticketID")[:64]
    field_text = _label(field, "field")[:100]
    await _session_for(session, number_text, now)
    query = select(FormAnswer).where(FormAnswer.number == number_text, FormAnswer.field == field_text)
    answer = (await session.execute(query)).scalar_one_or_none()
    if answer is None:
        session.add(FormAnswer(id=uuid.uuid4(), number=number_text, field=field_text, value=value, at=now))
    else:
        answer.value = value
        answer.at = now
    await session.flush()


async def record_before_slots(session: AsyncSession, *, number: Any, snapshot: Any, now: datetime) -> None:
    """`update-analytics-before-slots`: the form reached the slots step, with its answers so far."""
    await reach_step(session, number=number, step="Слоты", now=now)
    await record_answer(session, number=number, field="before_slots", value=snapshot, now=now)


@dataclass(frozen=True)
class FunnelStep:
    step: str
    sessions: int


async def funnel(session: AsyncSession, *, form_type: str | None) -> list[FunnelStep]:
    """How many form sessions reached each step (of one form type, or of all)."""
    query = (
        select(FormStep.step, func.count(func.distinct(FormStep.number)))
        .join(FormSession, FormSession.number == FormStep.number)
        .group_by(FormStep.step)
        .order_by(func.count(func.distinct(FormStep.number)).desc(), FormStep.step)
    )
    if form_type:
        query = query.where(FormSession.form_type == form_type)
    return [FunnelStep(row[0], row[1]) for row in (await session.execute(query)).all()]


async def form_types(session: AsyncSession) -> list[tuple[str, int]]:
    query = (
        select(FormSession.form_type, func.count(FormSession.id))
        .where(FormSession.form_type.is_not(None))
        .group_by(FormSession.form_type)
        .order_by(FormSession.form_type)
    )
    return [(str(row[0]), row[1]) for row in (await session.execute(query)).all()]


RESEARCH_ROW_ASKED_WITHIN = timedelta(hours=1)
"""The page asks for its row's number right after sending it; later asks get nothing."""


async def save_research(
    session: AsyncSession, *, raw: dict[str, Any], submitter_key: str | None, now: datetime
) -> ResearchResponse:
    row = ResearchResponse(
        raw=raw,
        contact_type=str(raw.get("contactType") or "") or None,
        contact=str(raw.get("contact") or "") or None,
        name=str(raw.get("name") or "") or None,
        submitter_key=submitter_key,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def latest_research_row(session: AsyncSession, *, submitter_key: str, now: datetime) -> int | None:
    """The newest research row this submitter sent in the last hour (the page asks right after
    sending its questionnaire and identifies itself no other way), or None."""
    query = (
        select(ResearchResponse.id)
        .where(
            ResearchResponse.submitter_key == submitter_key,
            ResearchResponse.created_at >= now - RESEARCH_ROW_ASKED_WITHIN,
        )
        .order_by(ResearchResponse.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def update_research_contacts(
    session: AsyncSession,
    *,
    row_id: int,
    contact_type: str | None,
    contact: str | None,
    name: str | None,
    application_number: str | None,
    now: datetime,
) -> ResearchResponse:
    """The contact the client gave later (the caller proved the row is theirs)."""
    row = await session.get(ResearchResponse, row_id)
    if row is None:
        raise NotFound("no such research row")
    row.contact_type = contact_type or row.contact_type
    row.contact = contact or row.contact
    row.name = name or row.name
    row.application_number = application_number or row.application_number
    row.updated_at = now
    await session.flush()
    return row
