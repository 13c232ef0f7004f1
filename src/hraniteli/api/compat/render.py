"""The legacy shapes: Russian slot states, `DD.MM`, hour-keyed days, text schedules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from hraniteli.applications.service import ClientSummary
from hraniteli.kit.moscow import DAY_SHORT, MSK, day_name, pretty_date
from hraniteli.models import ApplicationKind, Booking, Psychologist
from hraniteli.models.enums import (
    ClientSexAccepted,
    PsychologistGroup,
    RepeatRule,
    Sex,
    SlotState,
)
from hraniteli.schedule.repository import SlotView
from hraniteli.schedule.views import HOUR_KEYS, WEEK_ORDINALS, DayGroup, days_between

STATE_RU = {SlotState.FREE: "Свободен", SlotState.BOOKED: "Забронирован"}
REPEAT_RU = {
    RepeatRule.NONE: "нет",
    RepeatRule.WEEKLY: "раз в неделю",
    RepeatRule.BIWEEKLY: "раз в 2 недели",
    RepeatRule.MONTHLY: "раз в месяц",
}
REPEAT_FROM_RU = {value: key for key, value in REPEAT_RU.items()}
SEX_RU = {Sex.MALE: "Мужчина", Sex.FEMALE: "Женщина"}
CLIENT_SEX_RU = {
    ClientSexAccepted.ANY: "Не имеет значения",
    ClientSexAccepted.MALE: "Мужчины",
    ClientSexAccepted.FEMALE: "Женщины",
}
GROUP_RU = {
    PsychologistGroup.COMMUNITY: "Сообщество",
    PsychologistGroup.SUPERVISION: "Супервизии",
    PsychologistGroup.HELPFUL_HAND: "Рука помощи",
}


def slot_row(view: SlotView, local: datetime, booking: Booking | None = None) -> dict[str, Any]:
    """A `hraniteli_slots` row as the clients read it (contract §3.2)."""
    msk = view.start_at.astimezone(MSK)
    return {
        "id": str(view.id),
        "psychologist": view.psychologist,
        "date": msk.strftime("%Y-%m-%d"),
        "time": msk.strftime("%H:%M"),
        "state": STATE_RU[SlotState(view.state)],
        "ticket": booking.application_ref if booking else None,
        "client_id": str(booking.client_id) if booking and booking.client_id else None,
        "meeting_link": booking.meeting_link if booking else None,
        "meeting_id": booking.meeting_id if booking else None,
        "calendar_meeting_id": booking.calendar_meeting_id if booking else None,
        "confirmed": bool(booking and booking.is_confirmed),
        "auto_assigned": bool(booking and booking.is_auto_assigned),
        "auto_canceled": bool(booking and booking.is_auto_canceled),
        "is_helpful_hand": booking.is_helpful_hand if booking else None,
        "Дата Локальная": local.strftime("%Y-%m-%d"),
        "Время Локальное": local.strftime("%H:%M"),
    }


FREE_ROW_TAIL = {
    "state": STATE_RU[SlotState.FREE],
    "ticket": None,
    "client_id": None,
    "meeting_link": None,
    "meeting_id": None,
    "calendar_meeting_id": None,
    "confirmed": False,
    "auto_assigned": False,
    "auto_canceled": False,
    "is_helpful_hand": None,
}


def aggregated_days(
    rows: Sequence[tuple[str, str, datetime]],
    *,
    tz: tzinfo,
    start_date: date,
    end_date: date,
    skip_weekdays: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """Free slot rows (id, psychologist, start) as the aggregated schedule's days: every day of
    the window in the client's zone (minus closed weekdays), 24 hour keys each, rows under
    their local hour. Slots sharing a start share its formatted fields (computed once)."""
    days: dict[date, dict[str, Any]] = {}
    for day in days_between(start_date, end_date, skip_weekdays=skip_weekdays):
        days[day] = {
            "date": day.isoformat(),
            "day_name": day_name(day),
            "pretty_date": pretty_date(day),
            "slots": {key: [] for key in HOUR_KEYS},
        }
    current: datetime | None = None
    bucket: list[dict[str, Any]] | None = None
    shared: dict[str, Any] = {}
    for slot_id, psychologist, start_at in rows:
        if start_at != current:
            current = start_at
            local = start_at.astimezone(tz)
            entry = days.get(local.date())
            if entry is None:
                bucket = None
                continue
            msk = start_at.astimezone(MSK)
            shared = {
                "date": msk.strftime("%Y-%m-%d"),
                "time": msk.strftime("%H:%M"),
                **FREE_ROW_TAIL,
                "Дата Локальная": local.strftime("%Y-%m-%d"),
                "Время Локальное": local.strftime("%H:%M"),
            }
            bucket = entry["slots"].setdefault(f"{local.hour:02d}:00", [])
        if bucket is not None:
            bucket.append({"id": slot_id, "psychologist": psychologist, **shared})
    return list(days.values())


def editor_items(groups: Sequence[DayGroup]) -> list[dict[str, Any]]:
    """The schedule editor grid (`get-slot` with a secret): field `status`, not `state`."""
    return [
        {
            "date": group.day.isoformat(),
            "day_name": day_name(group.day),
            "pretty_date": pretty_date(group.day),
            "slots": {
                hour: [
                    {
                        "id": str(view.id),
                        "status": STATE_RU[SlotState(view.state)],
                        "time": local.strftime("%H:%M"),
                        "event": None,
                        "event_modal_type": None,
                        "slot_over_event": view.is_over_event,
                    }
                    for view, local in entries
                ]
                for hour, entries in group.hours.items()
            },
        }
        for group in groups
    ]


def _day_lines(views: Sequence[SlotView], tz: tzinfo) -> str:
    by_day: dict[date, list[str]] = {}
    for view in views:
        local = view.start_at.astimezone(tz)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    if not by_day:
        return "—"
    return "\n".join(
        f"{pretty_date(day)} {DAY_SHORT[day.weekday()]}: {', '.join(times)}"
        for day, times in sorted(by_day.items())
    )


def weekly_texts(
    views: Sequence[SlotView], *, first_monday: date, weeks: int, now: datetime, tz: tzinfo = MSK
) -> list[str]:
    """The bot's 4-week text schedule (seed 003 `get-slot?psychologist=`)."""
    texts = []
    for index in range(weeks):
        monday = first_monday + timedelta(days=7 * index)
        sunday = monday + timedelta(days=6)
        week = [view for view in views if monday <= view.start_at.astimezone(tz).date() <= sunday]
        free = [view for view in week if view.state == SlotState.FREE and view.start_at > now]
        booked = [view for view in week if view.state == SlotState.BOOKED]
        ordinal = WEEK_ORDINALS[index] if index < len(WEEK_ORDINALS) else f"{index + 1}-ю"
        texts.append(
            f"Расписание на {ordinal} неделю ({pretty_date(monday)}-{pretty_date(sunday)})\n\n"
            f"🟩 Свободно:\n\n{_day_lines(free, tz)}\n\n"
            f"✅Забронировано\n\n{_day_lines(booked, tz)}\n"
        )
    return texts


def card(psychologist: Psychologist) -> dict[str, Any]:
    """A catalogue card (contract §3.4): public profile only, no quota, no secrets, no Telegram
    id (it names the psychologist to the bot; the pages read no card field for it today)."""
    return {
        "id": str(psychologist.id),
        "name": psychologist.name,
        "age": psychologist.age,
        "sex": SEX_RU.get(psychologist.sex) if psychologist.sex else None,
        "city": psychologist.city,
        "experience": psychologist.experience,
        "min_session_price": psychologist.min_price,
        "max_session_price": psychologist.max_price,
        "price": psychologist.min_price,
        "main_modal": psychologist.main_modal,
        "additional_modals": ";".join(psychologist.additional_modals),
        "queries": "; ".join(psychologist.queries),
        "works_with": "; ".join(psychologist.skills),
        "link_photo": psychologist.photo_url,
        "link_video": psychologist.video_url,
        "is_video": bool(psychologist.video_url),
        "short_description": psychologist.about,
        "is_married": psychologist.is_married,
        "has_children": psychologist.has_children,
        "personal_therapy_type": psychologist.personal_therapy_type,
        "personal_therapy_duration": psychologist.personal_therapy_duration,
        "verified": psychologist.is_verified,
        "is_verified": psychologist.is_verified,
        "in_community": psychologist.in_community,
        "is_onboarding_finished": psychologist.is_onboarding_finished,
        "group": GROUP_RU[PsychologistGroup(psychologist.group)],
        "min_client_age": psychologist.min_client_age,
        "max_client_age": psychologist.max_client_age,
        "client_sex": CLIENT_SEX_RU[ClientSexAccepted(psychologist.client_sex)],
        "all_with_price": psychologist.is_all_with_price,
        "first_free": psychologist.is_first_free,
        "help_hand": psychologist.is_help_hand,
        "telegram": psychologist.telegram_link,
        "site": psychologist.site_link,
        "vk": psychologist.vk_link,
    }


def education_records(psychologist: Psychologist) -> list[dict[str, Any]]:
    """`edu-keys-pipeline-batch` records: psychologist name with underscores (contract §3.5)."""
    key = "_".join(psychologist.name.split())
    return [
        {
            "psychologist": key,
            "program_title": item.program_title,
            "year": item.year,
            "title": item.title,
            "doc_type": item.doc_type,
        }
        for item in psychologist.education
    ]


def client_summary(summary: ClientSummary) -> dict[str, Any]:
    """`get-ticket-for-slot` (contract §4.E4): what the slot popup shows, nothing more."""
    application, booking = summary.application, summary.booking
    is_helpful_hand = application.kind == ApplicationKind.HELPFUL_HAND or booking.is_helpful_hand
    diagnoses = [d for d in application.diagnoses if "медикамент" not in d.lower()]
    return {
        "client_name": application.client_name,
        "client_age": application.client_age,
        "client_timezone": application.time_zone_label or "МСК",
        "experience": application.experience,
        "past_session_experience": application.experience if is_helpful_hand else None,
        "is_helpful_hand": is_helpful_hand,
        "meeting_link": booking.meeting_link,
        "psychologist_price": application.price_category if is_helpful_hand else None,
        "important_in_psychologist": list(application.preferences),
        "questions_to_psychologist": "; ".join(application.requests),
        "has_mental_illness": "; ".join(diagnoses) if diagnoses else "Нет",
        "diagnose_medicaments": bool(application.takes_medication),
        "client_state": list(application.client_states),
        "traumatic_events": list(application.traumatic_events),
    }
