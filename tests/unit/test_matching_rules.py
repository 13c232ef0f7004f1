"""The matching rules one by one (docs/matching.md): hard filters, score, rank, reasons.

Pure: profiles are built in memory; the vocabularies are the exact strings of contract §6.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hraniteli.matching.rules import (
    PREFERENCE_FAMILY,
    PREFERENCE_SCIENCE,
    PREFERENCE_SEVERAL_METHODS,
    QUOTA_EXHAUSTED,
    SKILL_ABUSE,
    SKILL_ADDICTION,
    SKILL_ADULT_ABUSE,
    SKILL_CHILD_ABUSE,
    SKILL_FEMININITY,
    SKILL_LOSS,
    SKILL_MEDICATION,
    SKILL_PANIC,
    SKILL_PARENTHOOD,
    SKILL_PSYCHIATRIC,
    SKILL_SUICIDE,
    SKILL_TERMINAL,
    ClientProfile,
    PsychologistProfile,
    failed_filters,
    judge,
    name_order,
    normalize,
    rank,
    required_skills,
)
from hraniteli.models.enums import ApplicationKind, ClientSexAccepted, PsychologistGroup, Sex

ALL_SKILLS = (
    SKILL_PSYCHIATRIC,
    SKILL_MEDICATION,
    SKILL_PARENTHOOD,
    SKILL_ABUSE,
    SKILL_ADDICTION,
    SKILL_PANIC,
    SKILL_SUICIDE,
    SKILL_LOSS,
    SKILL_TERMINAL,
    SKILL_ADULT_ABUSE,
    SKILL_CHILD_ABUSE,
    SKILL_FEMININITY,
)

LOW_MOOD = (
    "Подавленное настроение, прокрастинация, ощущение бессмысленности существования, "
    "опустошенность, отверженность"
)
PHYSICAL = (
    "Физические недомогания: постоянная усталость, бессонница, проблемы с питанием, "
    "проблемы с памятью, психосоматические реакции"
)
EMOTIONS = (
    "Повышенная эмоциональность, эмоциональные всплески, приступы агрессии, поступки под "
    "действием эмоций, частые смены настроения"
)
ADDICTIONS_PSY = "Психологические зависимости: игровые, любовные, виртуальные и прочие"
NOTHING = "Ничего из вышеперечисленного"
ILLNESS_OF_CLOSE = "Болезни близкого"
DIVORCE = "Развод, расставание, измена"


def client(**fields: Any) -> ClientProfile:
    """A matching-form client with nothing sensitive, no wishes and no price: passes everything."""
    return ClientProfile(**fields)


def psychologist(name: str = "Иванова Анна", **fields: Any) -> PsychologistProfile:
    """An active community psychologist, 18–100, any client sex, quota 1: passes everything."""
    values: dict[str, Any] = {"id": uuid.uuid4(), "name": name, "quota_left": 1}
    values.update(fields)
    return PsychologistProfile(**values)


def fails(c: ClientProfile, p: PsychologistProfile, **kw: Any) -> list[str]:
    return failed_filters(c, p, **kw)


# --- defaults ---------------------------------------------------------------------------------


def test_builders_pass_every_filter() -> None:
    verdict = judge(client(), psychologist())
    assert verdict.eligible is True
    assert verdict.failed == ()
    assert verdict.score == pytest.approx(0.5)


# --- 1. active --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_active", "allow_assignment", "ok"),
    [(True, True, True), (False, True, False), (True, False, False), (False, False, False)],
)
def test_active_and_open_to_assignment(is_active: bool, allow_assignment: bool, ok: bool) -> None:
    failed = fails(client(), psychologist(is_active=is_active, allow_assignment=allow_assignment))
    assert failed == ([] if ok else ["не принимает новых клиентов"])


# --- 2. pool ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "ok"),
    [
        (ApplicationKind.MATCHING, {"group": PsychologistGroup.COMMUNITY}, True),
        (ApplicationKind.MATCHING, {"group": PsychologistGroup.SUPERVISION}, False),
        (ApplicationKind.MATCHING, {"group": PsychologistGroup.HELPFUL_HAND}, False),
        (ApplicationKind.MATCHING, {"group": PsychologistGroup.HELPFUL_HAND, "is_help_hand": True}, False),
        (ApplicationKind.CARD, {"group": PsychologistGroup.COMMUNITY}, True),
        (ApplicationKind.CARD, {"group": PsychologistGroup.SUPERVISION}, True),
        (ApplicationKind.CARD, {"group": PsychologistGroup.HELPFUL_HAND}, True),
        (ApplicationKind.DIAGNOSTIC, {"does_diagnostics": True}, True),
        (
            ApplicationKind.DIAGNOSTIC,
            {"does_diagnostics": True, "group": PsychologistGroup.SUPERVISION},
            True,
        ),
        (ApplicationKind.DIAGNOSTIC, {"does_diagnostics": False}, False),
        (ApplicationKind.HELPFUL_HAND, {"is_help_hand": True}, True),
        (ApplicationKind.HELPFUL_HAND, {"is_help_hand": True, "group": PsychologistGroup.HELPFUL_HAND}, True),
        (ApplicationKind.HELPFUL_HAND, {"is_help_hand": False}, False),
        (
            ApplicationKind.HELPFUL_HAND,
            {"is_help_hand": False, "group": PsychologistGroup.HELPFUL_HAND},
            False,
        ),
    ],
)
def test_pool_of_each_flow(kind: ApplicationKind, fields: dict[str, Any], ok: bool) -> None:
    failed = fails(client(kind=kind), psychologist(**fields))
    assert failed == ([] if ok else ["не работает в этом направлении"])


# --- 3. age -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "ok"),
    [(30, True), (25, True), (40, True), (24, False), (41, False), (5, False), (None, True)],
)
def test_client_age_within_limits(age: int | None, ok: bool) -> None:
    failed = fails(client(age=age), psychologist(min_client_age=25, max_client_age=40))
    assert failed == ([] if ok else ["работает с клиентами 25–40 лет"])


def test_default_age_limits_are_18_to_100() -> None:
    assert fails(client(age=18), psychologist()) == []
    assert fails(client(age=100), psychologist()) == []
    assert fails(client(age=17), psychologist()) == ["работает с клиентами 18–100 лет"]
    assert fails(client(age=101), psychologist()) == ["работает с клиентами 18–100 лет"]


# --- 4. client sex ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "sex", "ok"),
    [
        (ClientSexAccepted.ANY, Sex.MALE, True),
        (ClientSexAccepted.ANY, Sex.FEMALE, True),
        (ClientSexAccepted.MALE, Sex.MALE, True),
        (ClientSexAccepted.MALE, Sex.FEMALE, False),
        (ClientSexAccepted.FEMALE, Sex.FEMALE, True),
        (ClientSexAccepted.FEMALE, Sex.MALE, False),
        (ClientSexAccepted.MALE, None, True),
        (ClientSexAccepted.FEMALE, None, True),
    ],
)
def test_client_sex_accepted(accepted: ClientSexAccepted, sex: Sex | None, ok: bool) -> None:
    failed = fails(client(sex=sex), psychologist(client_sex=accepted))
    assert failed == ([] if ok else ["не работает с клиентами этого пола"])


# --- 5. psychologist sex ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "actual", "ok"),
    [
        (None, Sex.MALE, True),
        (None, Sex.FEMALE, True),
        (None, None, True),
        (Sex.FEMALE, Sex.FEMALE, True),
        (Sex.FEMALE, Sex.MALE, False),
        (Sex.MALE, Sex.MALE, True),
        (Sex.MALE, Sex.FEMALE, False),
        (Sex.MALE, None, False),  # a psychologist of unknown sex cannot satisfy an explicit wish
    ],
)
def test_wanted_psychologist_sex(wanted: Sex | None, actual: Sex | None, ok: bool) -> None:
    failed = fails(client(wanted_psychologist_sex=wanted), psychologist(sex=actual))
    assert failed == ([] if ok else ["клиент просил психолога другого пола"])


# --- 6. skills --------------------------------------------------------------------------------

SENSITIVE = [
    # client states (contract §6.1 ConditionStage; ContactStage adds the alcohol one)
    ("client_states", SKILL_PARENTHOOD, SKILL_PARENTHOOD),
    ("client_states", "Абьюзивные отношения, домашнее насилие", SKILL_ABUSE),
    ("client_states", "Алкогольные и химические зависимости", SKILL_ADDICTION),
    ("client_states", "Состояние ужаса, панические атаки", SKILL_PANIC),
    ("client_states", "Намерения или попытки суицида", SKILL_SUICIDE),
    ("client_states", "Проблемы с раскрытием женственности и сексуальности", SKILL_FEMININITY),
    # traumatic events
    ("traumatic_events", "Утрата близкого", SKILL_LOSS),
    ("traumatic_events", "Диагностированное смертельное заболевание", SKILL_TERMINAL),
    ("traumatic_events", "Сексуальное насилие во взрослом возрасте", SKILL_ADULT_ABUSE),
    ("traumatic_events", "Сексуальное насилие в детстве", SKILL_CHILD_ABUSE),
    # diagnoses ([HN] without the parenthetical, [OLD] with a different one)
    ("diagnoses", "Есть диагностированное психиатрическое заболевание", SKILL_PSYCHIATRIC),
    (
        "diagnoses",
        "Есть диагностированное психиатрическое заболевание "
        "(ПРЛ, БАР, ПТСР, депрессивное расстройство и прочее)",
        SKILL_PSYCHIATRIC,
    ),
    ("diagnoses", SKILL_PSYCHIATRIC, SKILL_PSYCHIATRIC),
    ("diagnoses", "Принимает медикаменты", SKILL_MEDICATION),
]


@pytest.mark.parametrize(("field_name", "answer", "skill"), SENSITIVE)
def test_each_sensitive_answer_requires_its_skill(field_name: str, answer: str, skill: str) -> None:
    c = client(**{field_name: (answer,)})
    assert required_skills(c) == [skill]
    assert fails(c, psychologist(skills=())) == [f"не работает с: {skill}"]
    others = tuple(s for s in ALL_SKILLS if s != skill)
    assert fails(c, psychologist(skills=others)) == [f"не работает с: {skill}"]
    assert fails(c, psychologist(skills=(skill,))) == []


def test_takes_medication_flag_requires_the_medication_skill() -> None:
    c = client(takes_medication=True)
    assert required_skills(c) == [SKILL_MEDICATION]
    assert fails(c, psychologist()) == [f"не работает с: {SKILL_MEDICATION}"]
    assert fails(c, psychologist(skills=(SKILL_MEDICATION,))) == []
    assert required_skills(client(takes_medication=False)) == []
    assert required_skills(client(takes_medication=None)) == []


@pytest.mark.parametrize(
    ("field_name", "answer"),
    [
        ("client_states", LOW_MOOD),
        ("client_states", PHYSICAL),
        ("client_states", EMOTIONS),
        ("client_states", ADDICTIONS_PSY),
        ("client_states", "Сложности в сексуальной сфере"),
        ("client_states", NOTHING),
        ("traumatic_events", ILLNESS_OF_CLOSE),
        ("traumatic_events", NOTHING),
        ("diagnoses", "Есть диагностированное психическое заболевание"),
        ("diagnoses", "Есть диагностированное психическое заболевание (РПП, СДВГ и прочее)"),
        ("diagnoses", "Не принимает медикаменты"),
        ("diagnoses", "Нет диагноза"),
        ("diagnoses", "Нет"),
    ],
)
def test_non_sensitive_answers_require_nothing(field_name: str, answer: str) -> None:
    c = client(**{field_name: (answer,)})
    assert required_skills(c) == []
    assert fails(c, psychologist(skills=())) == []


def test_required_skills_keep_order_and_drop_repeats() -> None:
    c = client(
        client_states=(
            "Намерения или попытки суицида",
            "Проблемы с раскрытием женственности и сексуальности",
            "Раскрытие женственности и сексуальности",
            LOW_MOOD,
        ),
        traumatic_events=("Сексуальное насилие в детстве", "Утрата близкого"),
        diagnoses=("Есть диагностированное психиатрическое заболевание", "Принимает медикаменты"),
        takes_medication=True,
    )
    assert required_skills(c) == [
        SKILL_SUICIDE,
        SKILL_FEMININITY,
        SKILL_CHILD_ABUSE,
        SKILL_LOSS,
        SKILL_PSYCHIATRIC,
        SKILL_MEDICATION,
    ]


def test_every_missing_skill_is_named() -> None:
    c = client(
        client_states=("Состояние ужаса, панические атаки",),
        traumatic_events=("Утрата близкого", "Сексуальное насилие в детстве"),
    )
    p = psychologist(skills=(SKILL_LOSS,))
    assert fails(c, p) == [f"не работает с: {SKILL_PANIC}; {SKILL_CHILD_ABUSE}"]
    assert fails(c, psychologist(skills=(SKILL_LOSS, SKILL_PANIC, SKILL_CHILD_ABUSE))) == []


@pytest.mark.parametrize(
    ("client_answer", "psychologist_skill"),
    [
        ("Состояние ужаса, панические атаки", "состояние ужаса — панические атаки"),
        ("НАМЕРЕНИЯ  или попытки суицида!!", "Намерения или попытки суицида"),
        ("Утрата близкого.", "  утрата   БЛИЗКОГО "),
        ("Принимает медикаменты", "прохожу назначено медикаментозное лечение от невролога психиатра"),
        (
            "Есть диагностированное психиатрическое заболевание",
            "Есть диагностированное психиатрическое заболевание",
        ),
        (
            "Есть диагностированное психиатрическое заболевание (ПРЛ)",
            "есть диагностированное психиатрическое заболевание (что угодно)",
        ),
    ],
)
def test_labels_compared_without_case_parentheses_punctuation(
    client_answer: str, psychologist_skill: str
) -> None:
    c = client(client_states=(client_answer,))
    assert len(required_skills(c)) == 1
    assert fails(c, psychologist(skills=(psychologist_skill,))) == []


def test_normalize() -> None:
    assert normalize("Есть диагностированное психиатрическое заболевание (ПРЛ, БАР, ПТСР и др)") == (
        "есть диагностированное психиатрическое заболевание"
    )
    assert normalize("  Всё   ЕЩЁ, (скобки) тут!  ") == "все еще тут"
    assert normalize("Прохожу/назначено") == "прохожу назначено"
    assert normalize("(только скобки)") == ""


def test_yo_is_ignored() -> None:
    assert normalize("опустошённость") == normalize("Опустошенность") == "опустошенность"
    c = client(client_states=("Намерения или попытки суицида",))
    assert fails(c, psychologist(skills=("Намерения или попытки суицида",))) == []


# --- 7. price ---------------------------------------------------------------------------------

HH = ApplicationKind.HELPFUL_HAND


@pytest.mark.parametrize(
    ("price", "minimum", "ok"),
    [
        (500, 500, True),
        (1000, 500, True),
        (300, 500, False),
        (0, 0, True),
        (0, 300, False),
        (None, 0, True),
        (None, 300, False),
    ],
)
def test_helpful_hand_price_against_its_minimum(price: int | None, minimum: int, ok: bool) -> None:
    p = psychologist(is_help_hand=True, help_hand_min_price=minimum)
    assert fails(client(kind=HH, price_rub=price), p) == ([] if ok else ["цена не подходит"])


def test_helpful_hand_price_ignores_regular_price_settings() -> None:
    p = psychologist(is_help_hand=True, help_hand_min_price=0, is_first_free=False, min_price=3000)
    assert fails(client(kind=HH, price_rub=0), p) == []
    assert fails(client(kind=HH, price_rub=500), p) == []


@pytest.mark.parametrize("kind", [ApplicationKind.MATCHING, ApplicationKind.CARD, ApplicationKind.DIAGNOSTIC])
@pytest.mark.parametrize(
    ("price", "fields", "ok"),
    [
        (None, {"min_price": 5000, "is_first_free": False}, True),
        (0, {"is_first_free": True}, True),
        (0, {"is_first_free": False}, False),
        (0, {"is_first_free": False, "min_price": None}, False),
        (2000, {"min_price": 1500}, True),
        (1500, {"min_price": 1500}, True),
        (1000, {"min_price": 1500}, False),
        (1000, {"min_price": None}, True),
        (1000, {"min_price": 1500, "is_first_free": True}, False),
    ],
)
def test_regular_price(kind: ApplicationKind, price: int | None, fields: dict[str, Any], ok: bool) -> None:
    p = psychologist(does_diagnostics=True, **fields)
    assert fails(client(kind=kind, price_rub=price), p) == ([] if ok else ["цена не подходит"])


# --- 8. quota ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("quota", "ok"), [(1, True), (7, True), (0, False), (-3, False)])
def test_quota(quota: int, ok: bool) -> None:
    assert fails(client(), psychologist(quota_left=quota)) == ([] if ok else [QUOTA_EXHAUSTED])


def test_named_psychologist_skips_quota_but_not_safety_filters() -> None:
    exhausted = psychologist(quota_left=0)
    assert fails(client(), exhausted, check_quota=False) == []
    assert judge(client(), exhausted, check_quota=False).eligible is True
    assert judge(client(), exhausted).eligible is False

    c = client(age=16, client_states=("Намерения или попытки суицида",))
    failed = fails(c, psychologist(quota_left=0, is_active=False), check_quota=False)
    assert failed == [
        "не принимает новых клиентов",
        "работает с клиентами 18–100 лет",
        f"не работает с: {SKILL_SUICIDE}",
    ]
    assert QUOTA_EXHAUSTED not in failed


def test_every_failure_is_reported() -> None:
    c = client(
        kind=ApplicationKind.MATCHING,
        age=70,
        sex=Sex.MALE,
        wanted_psychologist_sex=Sex.FEMALE,
        traumatic_events=("Утрата близкого",),
        price_rub=0,
    )
    p = psychologist(
        allow_assignment=False,
        group=PsychologistGroup.SUPERVISION,
        max_client_age=60,
        client_sex=ClientSexAccepted.FEMALE,
        sex=Sex.MALE,
        is_first_free=False,
        quota_left=0,
    )
    expected = [
        "не принимает новых клиентов",
        "не работает в этом направлении",
        "работает с клиентами 18–60 лет",
        "не работает с клиентами этого пола",
        "клиент просил психолога другого пола",
        f"не работает с: {SKILL_LOSS}",
        "цена не подходит",
        QUOTA_EXHAUSTED,
    ]
    assert fails(c, p) == expected
    verdict = judge(c, p)
    assert verdict.eligible is False
    assert verdict.score == 0.0
    assert verdict.failed == tuple(expected)
    assert verdict.reason == "; ".join(expected)
    assert verdict.psychologist_id == p.id
    assert verdict.name == p.name


# --- score ------------------------------------------------------------------------------------


def test_requests_covered_count_three_each() -> None:
    p = psychologist(queries=(LOW_MOOD, ILLNESS_OF_CLOSE, DIVORCE), quota_left=1)
    assert judge(client(), p).score == pytest.approx(0.5)
    assert judge(client(client_states=(LOW_MOOD,)), p).score == pytest.approx(3.5)
    assert judge(client(client_states=(PHYSICAL,)), p).score == pytest.approx(0.5)
    both = client(client_states=(LOW_MOOD,), traumatic_events=(ILLNESS_OF_CLOSE,))
    assert judge(both, p).score == pytest.approx(6.5)
    three = client(client_states=(LOW_MOOD,), traumatic_events=(ILLNESS_OF_CLOSE,), requests=(DIVORCE,))
    assert judge(three, p).score == pytest.approx(9.5)


def test_requests_match_ignoring_case_punctuation_and_yo() -> None:
    p = psychologist(queries=(LOW_MOOD.replace("опустошенность", "опустошённость"),))
    c = client(client_states=(LOW_MOOD.upper().replace(",", ""),))
    assert judge(c, p).score == pytest.approx(3.5)


def test_long_request_within_a_query_is_covered_short_one_is_not() -> None:
    p = psychologist(queries=(DIVORCE,))
    assert judge(client(requests=("развод, расставание",)), p).score == pytest.approx(3.5)
    assert judge(client(requests=("Развод",)), p).score == pytest.approx(0.5)


def test_empty_or_punctuation_only_query_covers_nothing() -> None:
    p = psychologist(queries=("", "—", "(-)", ILLNESS_OF_CLOSE))
    c = client(client_states=(LOW_MOOD, PHYSICAL), traumatic_events=(ILLNESS_OF_CLOSE,))
    verdict = judge(c, p)
    assert verdict.score == pytest.approx(3.5)
    assert "запросы (1): Болезни близкого" in verdict.reason


@pytest.mark.parametrize(
    ("fields", "met"),
    [
        ({}, 0),
        ({"is_married": True}, 1),
        ({"has_children": True}, 1),
        ({"is_married": False, "has_children": False}, 0),
        ({"additional_modals": ("Гештальт",)}, 1),
        ({"additional_modals": ("Нет дополнительной модальности",)}, 0),
        ({"additional_modals": ("",)}, 0),
        ({"main_modal": "КПТ"}, 1),
        ({"main_modal": "кпт"}, 1),
        ({"main_modal": "Гештальт"}, 0),
        ({"is_married": True, "additional_modals": ("Психоанализ",), "main_modal": "КПТ"}, 3),
    ],
)
def test_preferences_met_count_two_each(fields: dict[str, Any], met: int) -> None:
    c = client(preferences=(PREFERENCE_FAMILY, PREFERENCE_SEVERAL_METHODS, PREFERENCE_SCIENCE))
    assert judge(c, psychologist(**fields)).score == pytest.approx(0.5 + 2 * met)


def test_preferences_not_asked_for_do_not_score() -> None:
    p = psychologist(is_married=True, additional_modals=("Гештальт",), main_modal="КПТ")
    assert judge(client(), p).score == pytest.approx(0.5)
    c = client(preferences=("Чуткость, мягкость, умение выслушивать", "Опыт работы в эзотерике"))
    assert judge(c, p).score == pytest.approx(0.5)
    assert judge(client(preferences=(PREFERENCE_SCIENCE,)), p).score == pytest.approx(2.5)


@pytest.mark.parametrize(("quota", "score"), [(1, 0.5), (4, 2.0), (10, 5.0), (11, 5.0), (40, 5.0)])
def test_quota_counts_half_up_to_ten(quota: int, score: float) -> None:
    assert judge(client(), psychologist(quota_left=quota)).score == pytest.approx(score)


@pytest.mark.parametrize(("slots", "score"), [(0, 0.5), (3, 0.8), (20, 2.5), (21, 2.5), (100, 2.5)])
def test_free_slots_count_a_tenth_up_to_twenty(slots: int, score: float) -> None:
    assert judge(client(), psychologist(quota_left=1, free_slots=slots)).score == pytest.approx(score)


def test_score_adds_all_parts() -> None:
    c = client(client_states=(LOW_MOOD,), preferences=(PREFERENCE_FAMILY,))
    p = psychologist(queries=(LOW_MOOD,), has_children=True, quota_left=4, free_slots=7)
    assert judge(c, p).score == pytest.approx(3 + 2 + 2.0 + 0.7)


# --- reason -----------------------------------------------------------------------------------


def test_reason_of_an_eligible_psychologist() -> None:
    c = client(
        client_states=(LOW_MOOD,),
        traumatic_events=("Утрата близкого",),
        preferences=(PREFERENCE_SCIENCE,),
    )
    p = psychologist(
        queries=(LOW_MOOD,),
        skills=(SKILL_LOSS,),
        main_modal="КПТ",
        quota_left=3,
        free_slots=2,
    )
    verdict = judge(c, p)
    assert verdict.eligible is True
    assert verdict.failed == ()
    assert verdict.reason == "; ".join(
        [
            "подходит по всем обязательным условиям",
            f"работает с: {SKILL_LOSS}",
            f"запросы (1): {LOW_MOOD}",
            f"предпочтения: {PREFERENCE_SCIENCE}",
            "квота: осталось 3",
            "свободных слотов: 2",
        ]
    )


def test_reason_without_skills_or_requests() -> None:
    verdict = judge(client(), psychologist(quota_left=2, free_slots=0))
    assert verdict.reason == "подходит по всем обязательным условиям; квота: осталось 2; свободных слотов: 0"


# --- rank -------------------------------------------------------------------------------------


def test_rank_orders_by_score_and_drops_ineligible() -> None:
    c = client(client_states=(LOW_MOOD,))
    best = psychologist("Борисова Вера", queries=(LOW_MOOD,), quota_left=1)
    middle = psychologist("Алексеева Анна", quota_left=6)
    low = psychologist("Абрамова Яна", quota_left=1)
    inactive = psychologist("Аа Неактивная", is_active=False, queries=(LOW_MOOD,), quota_left=10)
    exhausted = psychologist("Аб Без квоты", queries=(LOW_MOOD,), quota_left=0)
    verdicts = rank(c, [low, inactive, middle, exhausted, best])
    assert name_order(verdicts) == ["Борисова Вера", "Алексеева Анна", "Абрамова Яна"]
    assert [v.score for v in verdicts] == pytest.approx([3.5, 3.0, 0.5])
    assert all(v.eligible for v in verdicts)


def test_rank_ties_broken_by_quota_left_then_name() -> None:
    # quota above 10 no longer adds to the score, but still breaks ties
    more = psychologist("Яковлева Юлия", quota_left=15)
    fewer = psychologist("Антонова Ася", quota_left=10)
    same_b = psychologist("Борисова Вера", quota_left=10)
    verdicts = rank(client(), [same_b, fewer, more])
    assert [v.score for v in verdicts] == pytest.approx([5.0, 5.0, 5.0])
    assert name_order(verdicts) == ["Яковлева Юлия", "Антонова Ася", "Борисова Вера"]


def test_rank_without_quota_check_keeps_exhausted_named_psychologists() -> None:
    named = psychologist("Иванова Анна", quota_left=0)
    other = psychologist("Петров Пётр", quota_left=2)
    assert name_order(rank(client(), [named, other])) == ["Петров Пётр"]
    assert name_order(rank(client(), [named, other], check_quota=False)) == ["Петров Пётр", "Иванова Анна"]


def test_rank_of_nobody_and_name_order_of_nothing() -> None:
    assert rank(client(), []) == []
    assert rank(client(), [psychologist(is_active=False)]) == []
    assert name_order([]) == []


def test_rank_counts_each_psychologist_once() -> None:
    p = psychologist("Иванова Анна")
    assert name_order(rank(client(), [p, p])) == ["Иванова Анна"]
