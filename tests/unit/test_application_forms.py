"""Reading the legacy front-ends' application payloads (contract §3.1, §3.3, §4.D1, §6)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from hraniteli.applications.forms import (
    ParsedForm,
    as_int,
    as_list,
    check_number,
    medication_of,
    parse_form,
    price_of,
    promocode_of,
    sex_of,
)
from hraniteli.errors import InvalidInput
from hraniteli.models.enums import ApplicationKind, Sex
from tests import payloads
from tests.payloads import (
    LOW_MOOD,
    REQUEST,
    SELECTION_CRITERIA,
    answered_info,
    application_payload,
    helpful_hand_body,
)


def info(**overrides: Any) -> dict[str, Any]:
    """`formPsyClientInfo` of a client who answered how they choose and wants a male psychologist."""
    return answered_info(**{"sexPsycho": "Мужской", **overrides})


def schedule_request(form: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The aggregated-schedule body of contract §3.1 from `info()`'s client, with two requests."""
    return payloads.schedule_request(
        {"question_to_psychologist": f"{REQUEST}; Выгорание на работе", **(form or {})},
        **{"formPsyClientInfo": info(), **overrides},
    )


# --- §3.3 ApplicationPayload ------------------------------------------------------------------


def test_application_payload() -> None:
    payload = application_payload()
    original = copy.deepcopy(payload)
    form = parse_form(payload)
    assert isinstance(form, ParsedForm)
    assert form.number == "k3f9a"
    assert form.raw is payload
    assert payload == original  # parsing does not touch the payload
    assert form.client_name == "Анна"
    assert form.client_age == 27
    assert form.client_sex == Sex.FEMALE
    assert form.wanted_psychologist_sex == Sex.FEMALE  # "Женщина" in the final application
    assert form.contact_type == "Telegram"
    assert form.contact == "@username"
    assert form.time_zone_label == "МСК"
    assert form.time_offset == "0"
    assert form.requests == ["Хочу разобраться с тревогой"]
    assert form.client_states == [LOW_MOOD]
    assert form.traumatic_events == ["Утрата близкого"]
    assert form.diagnoses == []
    assert form.takes_medication is False
    assert form.preferences == ["Чуткость, мягкость, умение выслушивать"]
    assert form.experience == "Да, я работал(а) с психологом/психотерапевтом.До месяца"
    assert form.price_category is None
    assert form.price_rub is None
    assert form.promocode == "PROMO"
    assert form.utm == {}
    assert form.wanted_psychologists == ["Иванова Анна"]
    assert form.matched_psychologists == ["Иванова Анна", "Петров Пётр"]
    assert form.chosen_slots == ["05.7 14:00"]
    assert form.chosen_slot_ids == []
    assert form.research_row_id == 123


def test_application_payload_utm_values_kept_when_real() -> None:
    form = parse_form(
        application_payload(utm_source="telegram", utm_campaign=" spring ", utm_term=None, utm_psy="")
    )
    assert form.utm == {"utm_source": "telegram", "utm_campaign": "spring"}


def test_application_payload_old_client_utm_psy_is_a_wanted_psychologist() -> None:
    form = parse_form(
        application_payload(
            utm_tarif="base",
            utm_psy="Петров  Пётр",
            selectedPsychologistsNames=["Иванова Анна", "Петров Пётр"],
            filtered_by_automatch_psy_names=["Петров Пётр", "Иванова  Анна", "Сидорова Ольга"],
        )
    )
    assert form.wanted_psychologists == ["Иванова Анна", "Петров Пётр", "Сидорова Ольга"]
    assert form.utm == {"utm_tarif": "base", "utm_psy": "Петров  Пётр"}


def test_application_payload_numbers_as_numbers_and_missing_keys() -> None:
    payload = application_payload(age=31, userTimeOffsetMsk=3)
    for key in ("bid", "rid", "promocode", "slots_objects", "top_3_psychologists", "diagnoseMedicaments"):
        del payload[key]
    form = parse_form(payload)
    assert form.client_age == 31
    assert form.time_offset == 3
    assert form.research_row_id is None
    assert form.promocode is None
    assert form.matched_psychologists == []
    assert form.takes_medication is None


def test_rid_used_when_bid_is_absent_or_zero() -> None:
    assert parse_form(application_payload(bid=0, rid="456")).research_row_id == 456
    assert parse_form(application_payload(bid="null", rid=0)).research_row_id is None


def test_slot_ids_parsed_and_garbage_skipped() -> None:
    slot = uuid.uuid4()
    form = parse_form(application_payload(slots_objects=[str(slot), "not-a-uuid", "null"]))
    assert form.chosen_slot_ids == [slot]


def test_custom_request_state_and_event_join_the_lists() -> None:
    form = parse_form(
        application_payload(
            customQuestion=["Страх публичных выступлений"],
            customState="Бессонница",
            customTraumaticEvent="Переезд",
            _queries="Выгорание; Хочу разобраться с тревогой",
            question_to_psychologist="Хочу разобраться с тревогой; Страх публичных выступлений",
        )
    )
    assert form.requests == ["Хочу разобраться с тревогой", "Страх публичных выступлений", "Выгорание"]
    assert form.client_states == [LOW_MOOD, "Бессонница"]
    assert form.traumatic_events == ["Утрата близкого", "Переезд"]


# --- §3.1 ScheduleRequest ---------------------------------------------------------------------


def test_schedule_request() -> None:
    form = parse_form(schedule_request())
    assert form.number == "k3f9a"
    assert form.client_age == 27
    assert form.client_sex == Sex.FEMALE
    assert form.wanted_psychologist_sex == Sex.MALE
    assert form.client_name == "Анна"
    assert form.contact_type == "Telegram"
    assert form.contact is None
    assert form.time_zone_label == "МСК"
    assert form.time_offset == 0
    assert form.requests == ["Хочу разобраться с тревогой", "Выгорание на работе"]
    assert form.client_states == ["Состояние ужаса, панические атаки"]
    assert form.traumatic_events == ["Утрата близкого"]
    assert form.diagnoses == ["Есть диагностированное психиатрическое заболевание", "Принимает медикаменты"]
    assert form.takes_medication is True
    assert form.preferences == ["Чуткость, мягкость, умение выслушивать"]
    assert form.promocode is None
    assert form.research_row_id is None
    assert form.wanted_psychologists == []
    assert form.chosen_slots == []


def test_schedule_request_cyrillic_key_tolerated_and_kept_raw() -> None:
    payload = schedule_request()
    assert SELECTION_CRITERIA != "selectionCriteria"
    form = parse_form(payload)
    assert form.raw["formPsyClientInfo"][SELECTION_CRITERIA] == "По рекомендациям знакомых"
    assert form.client_sex == Sex.FEMALE


@pytest.mark.parametrize(
    ("form_age", "info_age", "age_filter", "expected"),
    [
        ("27", "30", "35", 27),
        ("", "30", "35", 30),
        ("", "", "35", 35),
        ("", "", 41, 41),
        (None, "", "", None),
        ("", "", "", None),
        ("abc", "", "33", 33),
        ("2", "", "", None),  # out of the plausible range
    ],
)
def test_age_falls_back_to_profile_then_age_filter(
    form_age: Any, info_age: str, age_filter: Any, expected: int | None
) -> None:
    payload = schedule_request({"age": form_age}, ageFilter=age_filter, formPsyClientInfo=info(age=info_age))
    assert parse_form(payload).client_age == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Мужской", Sex.MALE),
        ("Мужчина", Sex.MALE),
        ("Женский", Sex.FEMALE),
        ("Женщина", Sex.FEMALE),
        ("Не имеет значения", None),
        ("", None),
    ],
)
def test_wanted_psychologist_sex(value: str, expected: Sex | None) -> None:
    assert parse_form(schedule_request(formPsyClientInfo=info(sexPsycho=value))).wanted_psychologist_sex == (
        expected
    )


@pytest.mark.parametrize(("value", "expected"), [("Женский", Sex.FEMALE), ("Мужской", Sex.MALE), ("", None)])
def test_client_sex_from_profile(value: str, expected: Sex | None) -> None:
    assert parse_form(schedule_request(formPsyClientInfo=info(sex=value))).client_sex == expected


def test_preferences_from_importance_and_custom() -> None:
    profile = info(
        importancePsycho=[
            "Опыт семейной жизни, собственные дети",
            "Научность, доказательная база подхода, без эзотерики",
        ],
        customImportance="Чувство юмора",
    )
    assert parse_form(schedule_request(formPsyClientInfo=profile)).preferences == [
        "Опыт семейной жизни, собственные дети",
        "Научность, доказательная база подхода, без эзотерики",
        "Чувство юмора",
    ]


def test_top_level_fills_in_what_the_form_leaves_empty() -> None:
    payload = schedule_request({"ticket_id": "", "age": ""}, ticket_id="k3f9a", show_only_psy="Иванова Анна")
    form = parse_form(payload)
    assert form.number == "k3f9a"
    assert form.client_age == 27  # formPsyClientInfo.age
    assert form.wanted_psychologists == ["Иванова Анна"]


def test_empty_top_level_value_does_not_hide_the_form_value() -> None:
    form = parse_form(schedule_request(ticket_id="", userTimeZone=""))
    assert form.number == "k3f9a"
    assert form.time_zone_label == "МСК"


def test_anonymous_cache_request_with_empty_form() -> None:
    payload = {
        "startDate": "2026-06-09",
        "endDate": "2026-07-10",
        "ageFilter": "",
        "formPsyClientInfo": {"age": "", "sex": "Мужской", "sexPsycho": "Не имеет значения"},
        "form": {},
    }
    form = parse_form(payload)
    assert form.number is None
    assert form.client_age is None
    assert form.client_sex == Sex.MALE
    assert form.wanted_psychologist_sex is None
    assert form.requests == []
    assert form.kind_for(ApplicationKind.MATCHING) == ApplicationKind.MATCHING


# --- §4.D1 Helpful Hand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "custom", "price"),
    [
        ("Бесплатно", "", 0),
        ("300 руб", "", 300),
        ("500 руб", "", 500),
        ("1000 руб", "", 1000),
        ("3000 руб", "", 3000),
        ("Другое", "700", 700),
        ("Другое", "700 руб", 700),
        ("Другое", "", None),
        ("", "", None),
    ],
)
def test_helpful_hand_price(category: str, custom: str, price: int | None) -> None:
    form = parse_form(helpful_hand_body(categoryType=category, customCategory=custom))
    assert form.price_rub == price
    assert form.price_category == (category or None)


def test_helpful_hand_body() -> None:
    form = parse_form(helpful_hand_body(categoryType="500 руб"))
    assert form.number == "hh_k3f9a"
    assert form.kind_for(ApplicationKind.MATCHING) == ApplicationKind.HELPFUL_HAND
    assert form.price_category == "500 руб"
    assert form.price_rub == 500
    assert form.experience == "Да, я работал(а) с психологом/психотерапевтом.До месяца"
    assert form.wanted_psychologists == []
    assert form.matched_psychologists == []
    assert form.chosen_slots == []
    assert form.promocode is None


def test_helpful_hand_experience_from_profile_when_no_last_experience() -> None:
    form = parse_form(helpful_hand_body(lastExperience=""))
    assert form.experience == "Да, сейчас нахожусь в терапии"


# --- diagnoses and medication -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnoses", "kept"),
    [
        (["Нет диагноза"], []),
        (["Ничего из вышеперечисленного"], []),
        (["Нет"], []),
        (
            ["Есть диагностированное психиатрическое заболевание", "Не принимает медикаменты"],
            ["Есть диагностированное психиатрическое заболевание"],
        ),
        (
            ["Есть диагностированное психическое заболевание", "Нет диагноза"],
            ["Есть диагностированное психическое заболевание"],
        ),
        (
            "Есть диагностированное психиатрическое заболевание;Принимает медикаменты",
            ["Есть диагностированное психиатрическое заболевание", "Принимает медикаменты"],
        ),
    ],
)
def test_diagnoses_without_the_nothing_answers(diagnoses: Any, kept: list[str]) -> None:
    assert parse_form(application_payload(diagnoses=diagnoses)).diagnoses == kept


def test_nothing_answers_dropped_from_states_and_events() -> None:
    form = parse_form(
        application_payload(
            clientStates=["Ничего из вышеперечисленного"],
            traumaticEvents=["ничего из вышеперечисленного", "Болезни близкого", "Болезни близкого"],
        )
    )
    assert form.client_states == []
    assert form.traumatic_events == ["Болезни близкого"]


@pytest.mark.parametrize(
    ("value", "diagnoses", "expected"),
    [
        ("yes", [], True),
        ("no", [], False),
        ("Да", [], True),
        ("Нет", [], False),
        ("да", [], True),
        ("", [], None),
        (None, [], None),
        ("", ["Есть диагностированное психиатрическое заболевание", "Принимает медикаменты"], True),
        ("", ["Есть диагностированное психиатрическое заболевание", "Не принимает медикаменты"], False),
        ("null", ["Принимает медикаменты"], True),
    ],
)
def test_medication(value: Any, diagnoses: list[str], expected: bool | None) -> None:
    assert medication_of(value, diagnoses) is expected
    form = parse_form(application_payload(diagnoseMedicaments=value, diagnoses=diagnoses))
    assert form.takes_medication is expected


# --- the application number -------------------------------------------------------------------


def test_missing_ticket_id_gives_no_number() -> None:
    payload = application_payload()
    del payload["ticket_id"]
    assert parse_form(payload).number is None
    assert parse_form(application_payload(ticket_id="")).number is None
    assert parse_form(application_payload(ticket_id="null")).number is None


@pytest.mark.parametrize("bad", ["k3 f9a", "a" * 65, "../x", "k3f9a/", "заявка", "a;b"])
def test_invalid_ticket_id_rejected(bad: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_form(application_payload(ticket_id=bad))
    assert raised.value.details == [{"field": "ticket_id"}]
    with pytest.raises(InvalidInput):
        check_number(bad)


@pytest.mark.parametrize("good", ["k3f9a", "k3f9a-2", "hh_k3f9a", "a" * 64, " k3f9a ", 12345])
def test_valid_numbers(good: Any) -> None:
    assert check_number(good) == str(good).strip()


@pytest.mark.parametrize("missing", [None, "", "  ", "null", "undefined"])
def test_check_number_missing(missing: Any) -> None:
    with pytest.raises(InvalidInput, match="missing"):
        check_number(missing)


def test_other_number_keys() -> None:
    payload = application_payload(lead_number="lead-7")
    del payload["ticket_id"]
    assert parse_form(payload, number_keys=("lead_number", "ticket_id")).number == "lead-7"
    assert parse_form(application_payload(lead_number="lead-7"), number_keys=("lead_number",)).number == (
        "lead-7"
    )


@pytest.mark.parametrize(
    ("number", "default", "kind"),
    [
        ("hh_k3f9a", ApplicationKind.MATCHING, ApplicationKind.HELPFUL_HAND),
        ("hh_k3f9a", ApplicationKind.CARD, ApplicationKind.HELPFUL_HAND),
        ("ds_k3f9a", ApplicationKind.MATCHING, ApplicationKind.DIAGNOSTIC),
        ("ds_k3f9a", ApplicationKind.CARD, ApplicationKind.DIAGNOSTIC),
        ("cd_k3f9a", ApplicationKind.MATCHING, ApplicationKind.CARD),
        ("cd_k3f9a", ApplicationKind.DIAGNOSTIC, ApplicationKind.DIAGNOSTIC),
        ("k3f9a", ApplicationKind.MATCHING, ApplicationKind.MATCHING),
        ("k3f9a", ApplicationKind.DIAGNOSTIC, ApplicationKind.DIAGNOSTIC),
        ("hhk3f9a", ApplicationKind.MATCHING, ApplicationKind.MATCHING),
    ],
)
def test_kind_for_by_prefix(number: str, default: ApplicationKind, kind: ApplicationKind) -> None:
    assert parse_form(application_payload(ticket_id=number)).kind_for(default) == kind


def test_kind_for_without_number() -> None:
    assert ParsedForm(number=None, raw={}).kind_for(ApplicationKind.CARD) == ApplicationKind.CARD


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "separators", "expected"),
    [
        ("Иванова Анна;Петров Пётр", ";", ["Иванова Анна", "Петров Пётр"]),
        (" Иванова Анна ;; Петров Пётр; ", ";", ["Иванова Анна", "Петров Пётр"]),
        (
            "Иванова Анна, Петров Пётр; Сидорова Ольга",
            ";,",
            ["Иванова Анна", "Петров Пётр", "Сидорова Ольга"],
        ),
        ("05.07 14:00;06.07 15:00", ";", ["05.07 14:00", "06.07 15:00"]),
        (["a;b", " c ", "", "null", None], ";", ["a;b", "c"]),
        (("x", "y"), ";", ["x", "y"]),
        (None, ";", []),
        ("", ";", []),
        ("null", ";", []),
        ("undefined", ";", []),
        ({"a": 1}, ";", []),
        (True, ";", []),
        (42, ";", ["42"]),
    ],
)
def test_as_list(value: Any, separators: str, expected: list[str]) -> None:
    assert as_list(value, separators) == expected


def test_as_list_default_separator_is_semicolon_only() -> None:
    assert as_list("a, b; c") == ["a, b", "c"]


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("27", {}, 27),
        (27, {}, 27),
        (" 27 лет", {}, 27),
        ("0", {}, 0),
        ("-1", {}, None),
        ("151", {}, None),
        ("150", {}, 150),
        ("abc", {}, None),
        ("", {}, None),
        (None, {}, None),
        ("null", {}, None),
        (True, {}, None),
        ("4", {"low": 5, "high": 120}, None),
        ("121", {"low": 5, "high": 120}, None),
        ("5", {"low": 5, "high": 120}, 5),
        ("-3", {"low": -12, "high": 12}, -3),
    ],
)
def test_as_int(value: Any, kwargs: dict[str, int], expected: int | None) -> None:
    assert as_int(value, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "custom", "expected"),
    [
        ("Бесплатно", None, 0),
        ("бесплатно", None, 0),
        ("free", None, 0),
        ("0", None, 0),
        (0, None, 0),
        ("300 руб", None, 300),
        ("1000", None, 1000),
        (1500, None, 1500),
        ("1 000 руб", None, 1000),
        ("Другое", "2500", 2500),
        ("Другое", None, None),
        ("Другое", "null", None),
        ("Все", None, None),
        ("", None, None),
        (None, None, None),
        ("null", None, None),
        ("12345678", None, None),
    ],
)
def test_price_of(value: Any, custom: Any, expected: int | None) -> None:
    assert price_of(value, custom) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"PROMO"', "PROMO"),
        ("PROMO", "PROMO"),
        (' "PROMO" ', "PROMO"),
        ('""', None),
        ('"null"', None),
        ("", None),
        (None, None),
        ("null", None),
        ('"broken\\"', "broken\\"),
        ("Клиент перешёл из исследовательской анкеты", "Клиент перешёл из исследовательской анкеты"),
    ],
)
def test_promocode_of(value: Any, expected: str | None) -> None:
    assert promocode_of(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Мужской", Sex.MALE),
        ("Мужчина", Sex.MALE),
        ("мужчины", Sex.MALE),
        ("male", Sex.MALE),
        ("Женский", Sex.FEMALE),
        ("Женщина", Sex.FEMALE),
        ("Женщины", Sex.FEMALE),
        ("female", Sex.FEMALE),
        (" Женский ", Sex.FEMALE),
        ("Не имеет значения", None),
        ("other", None),
        ("", None),
        (None, None),
    ],
)
def test_sex_of(value: Any, expected: Sex | None) -> None:
    assert sex_of(value) == expected


def test_queries_join_the_requests() -> None:
    form = parse_form(
        application_payload(
            questions=[],
            question_to_psychologist="",
            _queries="Развод, расставание, измена; Болезни близкого;",
        )
    )
    assert form.requests == ["Развод, расставание, измена", "Болезни близкого"]


def test_preferences_in_the_application_forms_object_shape_are_kept() -> None:
    """The [HN] application form sends `importancePsycho` as an object (item 9 of the trust issue)."""
    info = payloads.answered_info(
        importancePsycho={
            "preferences": [
                "Чуткость, мягкость, умение выслушивать",
                "Опыт семейной жизни, собственные дети",
            ],
            "customPreferences": "Чувство юмора",
        },
        customImportance="",
    )

    form = parse_form(payloads.application_payload(formPsyClientInfo=info))

    assert form.preferences == [
        "Чуткость, мягкость, умение выслушивать",
        "Опыт семейной жизни, собственные дети",
        "Чувство юмора",
    ]


def test_preferences_as_a_list_still_work() -> None:
    form = parse_form(payloads.application_payload(formPsyClientInfo=payloads.answered_info()))

    assert form.preferences == ["Чуткость, мягкость, умение выслушивать"]
