"""Builders of the legacy front-ends' application bodies (contract §3.1, §3.3, §4.D1), for tests and bench."""

from __future__ import annotations

from typing import Any

SELECTION_CRITERIA = "selection\u0421riteria"  # Cyrillic "С" (U+0421), as every client sends it
LOW_MOOD = (
    "Подавленное настроение, прокрастинация, ощущение бессмысленности существования, "
    "опустошенность, отверженность"
)
REQUEST = "Хочу разобраться с тревогой"
UTM_NULL = dict.fromkeys(
    ("utm_client", "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term"), "null"
)
"""The marketing tags of a visit without any, as the front-ends send them."""


def client_info(**overrides: Any) -> dict[str, Any]:
    """`formPsyClientInfo` of contract §3.1 as the matching questionnaire sends it."""
    value: dict[str, Any] = {
        "age": "27",
        "city": "",
        "sex": "Женский",
        "psychoEducated": "",
        "anxieties": [],
        "customAnexiety": "",
        "hasPsychoExperience": "",
        "meetType": "",
        SELECTION_CRITERIA: "",
        "custmCreteria": "",
        "importancePsycho": ["Чуткость, мягкость, умение выслушивать"],
        "customImportance": "",
        "agePsycho": "",
        "sexPsycho": "Не имеет значения",
        "priceLastSession": "",
        "durationSession": "",
        "reasonCancel": "",
        "pricePsycho": "",
        "reasonNonApplication": "",
        "contactType": "Telegram",
        "contact": "",
        "name": "Анна",
        "is_adult": True,
        "is_last_page": False,
        "occupation": "Постоянная работа в найме",
    }
    value.update(overrides)
    return value


def answered_info(**overrides: Any) -> dict[str, Any]:
    """`formPsyClientInfo` of a client who answered how they choose a psychologist."""
    return client_info(**{SELECTION_CRITERIA: "По рекомендациям знакомых", **overrides})


def schedule_form(**overrides: Any) -> dict[str, Any]:
    """The `form` (the application proper) of a §3.1 ScheduleRequest."""
    value: dict[str, Any] = {
        "anxieties": [],
        "questions": [REQUEST],
        "customQuestion": [],
        "diagnoses": ["Есть диагностированное психиатрическое заболевание", "Принимает медикаменты"],
        "diagnoseInfo": "",
        "diagnoseMedicaments": "",
        "traumaticEvents": ["Утрата близкого"],
        "clientStates": ["Состояние ужаса, панические атаки"],
        "selectedPsychologistsNames": [],
        "shownPsychologists": "",
        "psychos": [],
        "lastExperience": "",
        "amountExpectations": "",
        "age": "27",
        "slots": [],
        "contactType": "Telegram",
        "contact": "",
        "name": "Анна",
        "promocode": "",
        "ticket_id": "k3f9a",
        "emptySlots": False,
        "userTimeZone": "МСК",
        "bid": 0,
        "rid": 0,
        "categoryType": "",
        "customCategory": "",
        "question_to_psychologist": REQUEST,
        "filtered_by_automatch_psy_names": [],
        "_queries": "",
        "customTraumaticEvent": "",
        "customState": "",
    }
    value.update(overrides)
    return value


def schedule_request(form: dict[str, Any] | None = None, /, **overrides: Any) -> dict[str, Any]:
    """The aggregated-schedule body of contract §3.1: `form` (positional) is merged into the
    default form; top-level `overrides` replace keys, so `form=` replaces the whole form."""
    value: dict[str, Any] = {
        "startDate": "2026-06-09",
        "endDate": "2026-07-09",
        "ageFilter": "27",
        "ticket_id": "k3f9a",
        "userTimeOffsetMsk": 0,
        "formPsyClientInfo": client_info(),
        "form": schedule_form(**(form or {})),
    }
    value.update(overrides)
    return value


def application_payload(**overrides: Any) -> dict[str, Any]:
    """The flat `tilda-zayavka` body of contract §3.3 (the [HN] PhoneStage shape)."""
    value: dict[str, Any] = {
        **UTM_NULL,
        "anxieties": [],
        "questions": [REQUEST],
        "customQuestion": [],
        "diagnoses": [],
        "diagnoseInfo": "",
        "diagnoseMedicaments": "no",
        "traumaticEvents": ["Утрата близкого"],
        "clientStates": [LOW_MOOD],
        "selectedPsychologistsNames": ["Иванова Анна"],
        "shownPsychologists": "Иванова Анна",
        "top_3_psychologists": ["Иванова Анна", "Петров Пётр"],
        "lastExperience": "Да, я работал(а) с психологом/психотерапевтом.До месяца",
        "amountExpectations": "",
        "age": "27",
        "slots": ["05.7 14:00"],
        "slots_objects": [],
        "contactType": "Telegram",
        "contact": "@username",
        "name": "Анна",
        "promocode": '"PROMO"',
        "ticket_id": "k3f9a",
        "emptySlots": False,
        "userTimeZone": "МСК",
        "userTimeOffsetMsk": "0",
        "bid": 123,
        "rid": 456,
        "categoryType": "",
        "customCategory": "",
        "question_to_psychologist": REQUEST,
        "filtered_by_automatch_psy_names": ["Иванова Анна"],
        "_queries": "",
        "customTraumaticEvent": "",
        "customState": "",
        "utm_anketa": "null",
        "some_future_key": {"nested": [1, 2]},
        "formPsyClientInfo": answered_info(is_last_page=True, sexPsycho="Женщина"),
    }
    value.update(overrides)
    return value


def helpful_hand_body(**overrides: Any) -> dict[str, Any]:
    """`register-ticket-for-help-hand` ([HN], contract §4.D1)."""
    value = application_payload(
        ticket_id="hh_k3f9a",
        slots=[],
        top_3_psychologists=[],
        selectedPsychologistsNames=[],
        filtered_by_automatch_psy_names=[],
        shownPsychologists="",
        promocode="",
        categoryType="Бесплатно",
        formPsyClientInfo=answered_info(
            sexPsycho="Мужской", hasPsychoExperience="Да, сейчас нахожусь в терапии", is_last_page=True
        ),
    )
    value.update(overrides)
    return value
