"""Demo data: varied psychologists with free (and a few booked) slots for the next four weeks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.bookings import service as bookings
from hraniteli.kit.moscow import MSK
from hraniteli.models import Psychologist
from hraniteli.psychologists import service as psychologists
from hraniteli.psychologists.schemas import EducationItem, PsychologistCreate
from hraniteli.schedule import service as schedule
from hraniteli.schedule.service import SchedulePolicy

SKILLS_ALL = [
    "Есть диагностированное психиатрическое заболевание (ПРЛ, БАР, ПТСР и др)",
    "Прохожу/назначено медикаментозное лечение от невролога/психиатра",
    "Беременность, родительство, послеродовая депрессия, проблемы в отношениях с детьми до 18 лет",
    "Абьюзивные отношения, домашнее насилие",
    "Алкогольные и химические зависимости",
    "Состояние ужаса, панические атаки",
    "Намерения или попытки суицида",
    "Утрата близкого",
    "Диагностированное смертельное заболевание",
    "Сексуальное насилие во взрослом возрасте",
    "Сексуальное насилие в детстве",
    "Раскрытие женственности и сексуальности",
]
QUERIES = [
    "Страх будущего и неопределенности",
    "Развод, расставание, измена",
    "Построение отношений с родителями, взрослыми детьми",
    "Недоверие к людям, болезненное одиночество, социофобия",
    "Работа с собой, самооценка, любовь, уважение и ценность себя",
    "Проблемы с самоопределением и самореализацией, поиск своего места в жизни, выгорание",
    "Чувства, которые мешают в жизни: тревожность, навязчивые мысли, стыд, вина, и прочие",
]

PROFILES: list[dict[str, object]] = [
    {
        "name": "Иванова Анна",
        "sex": "female",
        "age": 38,
        "main_modal": "Гештальт",
        "min_price": 2000,
        "max_price": 3000,
        "skills": SKILLS_ALL[:8],
        "debt": 8,
        "experience": "5-10",
        "is_help_hand": True,
        "hours": [10, 11, 12, 15, 16, 18],
    },
    {
        "name": "Петров Пётр",
        "sex": "male",
        "age": 45,
        "main_modal": "КПТ",
        "min_price": 3000,
        "max_price": 4000,
        "skills": SKILLS_ALL,
        "debt": 10,
        "experience": "10+",
        "client_sex": "any",
        "hours": [9, 10, 13, 14, 19, 20],
    },
    {
        "name": "Смирнова Ольга",
        "sex": "female",
        "age": 29,
        "main_modal": "Аналитическая психология",
        "min_price": 1000,
        "max_price": 1500,
        "skills": SKILLS_ALL[2:6],
        "debt": 6,
        "experience": "1-3",
        "client_sex": "female",
        "min_client_age": 18,
        "max_client_age": 35,
        "is_help_hand": True,
        "group": "helpful_hand",
        "is_first_free": True,
        "hours": [11, 12, 17, 18, 21],
    },
    {
        "name": "Кузнецов Дмитрий",
        "sex": "male",
        "age": 52,
        "main_modal": "Психоанализ",
        "min_price": 4000,
        "max_price": 5000,
        "skills": SKILLS_ALL[:2] + SKILLS_ALL[7:9],
        "debt": 4,
        "experience": "10+",
        "min_client_age": 25,
        "max_client_age": 70,
        "time_zone": "Asia/Novosibirsk",
        "hours": [7, 8, 9, 12, 13],
    },
    {
        "name": "Соколова Мария",
        "sex": "female",
        "age": 34,
        "main_modal": "КПТ",
        "min_price": 2500,
        "max_price": 3500,
        "skills": SKILLS_ALL[3:12],
        "debt": 8,
        "experience": "3-5",
        "time_zone": "Europe/Kaliningrad",
        "hours": [10, 14, 15, 16, 20],
    },
    {
        "name": "Волков Алексей",
        "sex": "male",
        "age": 41,
        "main_modal": "Гештальт",
        "min_price": 500,
        "max_price": 1000,
        "skills": SKILLS_ALL[5:8],
        "debt": 5,
        "experience": "1-3",
        "group": "supervision",
        "client_sex": "male",
        "hours": [12, 13, 18, 19],
    },
]


@dataclass
class DemoPsychologist:
    name: str
    editor_secret: str
    time_zone: str


async def seed_demo(
    session: AsyncSession, *, now: datetime, policy: SchedulePolicy, days: int = 28, seed: int = 7
) -> list[DemoPsychologist]:
    """Seed the demo into an empty database; returns [] if psychologists already exist."""
    if (await session.execute(select(func.count(Psychologist.id)))).scalar_one():
        return []
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    seeded = []
    start_day = now.astimezone(MSK).date()
    for index, raw in enumerate(PROFILES):
        profile = dict(raw)
        hours = profile.pop("hours")
        assert isinstance(hours, list)
        data = PsychologistCreate.model_validate(
            {
                **profile,
                "telegram_id": str(100_000_000 + index),
                "city": "Москва",
                "about": "Демо-профиль: работаю бережно и в собственном темпе клиента.",
                "queries": rng.sample(QUERIES, 4),
                "additional_modals": [],
                "personal_therapy_type": "Индивидуальная",
                "personal_therapy_duration": "Более 2 лет",
                "is_verified": True,
                "is_onboarding_finished": True,
                "education": [
                    EducationItem(
                        title="Психологический факультет",
                        program_title="Клиническая психология",
                        doc_type="Диплом",
                        year=2010 + index,
                    ).model_dump()
                ],
            }
        )
        created = await psychologists.create_psychologist(
            session, data=data, now=now, default_time_zone="Europe/Moscow"
        )
        for offset in range(days):
            day = start_day + timedelta(days=offset)
            if day.weekday() in policy.closed_weekdays or rng.random() < 0.15:
                continue
            for hour in hours:
                start_at = datetime.combine(day, time(hour), tzinfo=MSK)
                if start_at <= now + timedelta(hours=1):
                    continue
                added = await schedule.add_slot(
                    session, psychologist=created, start_at=start_at, now=now, policy=policy
                )
                if rng.random() < 0.12:
                    await bookings.book_slot(
                        session,
                        request=bookings.BookingRequest(
                            slot_id=added.slot.id, application_ref=f"demo{rng.randrange(10**5):05d}"
                        ),
                        now=now,
                    )
        seeded.append(DemoPsychologist(created.name, created.editor_secret, created.time_zone))
    return seeded
