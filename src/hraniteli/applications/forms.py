"""Reading the application forms the front-ends send (contract §3.1, §3.3) into clean fields.

Pure functions, tolerant of what the real clients do: strings for numbers, the literal
"null", missing keys, lists or ';'-joined strings, JSON-quoted promocodes, the Cyrillic "С"
in `selectionСriteria`, unknown extra keys.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from hraniteli.errors import InvalidInput
from hraniteli.models.enums import ApplicationKind, Sex

NOTHING = {
    "ничего из вышеперечисленного",
    "нет диагноза",
    "нет",
    "no",
    "none",
    "не принимает медикаменты",
}
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
UTM_KEYS = (
    "utm_client",
    "utm_campaign",
    "utm_content",
    "utm_medium",
    "utm_source",
    "utm_term",
    "utm_tarif",
    "utm_psy",
    "utm_anketa",
)


def clean(value: Any) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    text = str(value).strip()
    return "" if text.lower() in ("null", "undefined", "none") else text


def as_list(value: Any, separators: str = ";") -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = [clean(item) for item in value]
    else:
        items = [clean(value)]
        for separator in separators:
            items = [part.strip() for item in items for part in item.split(separator)]
    return [item for item in items if item]


def as_int(value: Any, *, low: int = 0, high: int = 150) -> int | None:
    text = clean(value)
    if not text:
        return None
    match = re.search(r"-?\d+", text)
    if not match:
        return None
    number = int(match.group())
    return number if low <= number <= high else None


def sex_of(value: Any) -> Sex | None:
    text = clean(value).lower()
    if text in ("мужской", "мужчина", "мужчины", "male", "м", "man"):
        return Sex.MALE
    if text in ("женский", "женщина", "женщины", "female", "ж", "woman"):
        return Sex.FEMALE
    return None


def price_of(value: Any, custom: Any = None) -> int | None:
    """ "Бесплатно"/"free" → 0, "500 руб"/"1000" → roubles, "Другое" → the custom amount."""
    text = clean(value).lower()
    if not text:
        return None
    if text in ("бесплатно", "free", "0"):
        return 0
    if text == "другое":
        return price_of(custom) if clean(custom) else None
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits and len(digits) <= 7 else None


def promocode_of(value: Any) -> str | None:
    text = clean(value)
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = text[1:-1]
        text = clean(decoded)
    return text or None


def medication_of(value: Any, diagnoses: list[str]) -> bool | None:
    text = clean(value).lower()
    if text in ("yes", "да", "true", "принимает медикаменты"):
        return True
    if text in ("no", "нет", "false"):
        return False
    lowered = [d.lower() for d in diagnoses]
    if "принимает медикаменты" in lowered:
        return True
    if "не принимает медикаменты" in lowered:
        return False
    return None


def _meaningful(labels: list[str]) -> list[str]:
    result: list[str] = []
    for label in labels:
        if label.lower() not in NOTHING and label not in result:
            result.append(label)
    return result


@dataclass
class ParsedForm:
    """An application form in clean fields; `raw` keeps everything as it came."""

    number: str | None
    raw: dict[str, Any]
    client_name: str | None = None
    client_age: int | None = None
    client_sex: Sex | None = None
    wanted_psychologist_sex: Sex | None = None
    contact_type: str | None = None
    contact: str | None = None
    time_zone_label: str | None = None
    time_offset: Any = None
    requests: list[str] = field(default_factory=list)
    client_states: list[str] = field(default_factory=list)
    traumatic_events: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    takes_medication: bool | None = None
    preferences: list[str] = field(default_factory=list)
    experience: str | None = None
    price_category: str | None = None
    price_rub: int | None = None
    promocode: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    wanted_psychologists: list[str] = field(default_factory=list)
    matched_psychologists: list[str] = field(default_factory=list)
    chosen_slots: list[str] = field(default_factory=list)
    chosen_slot_ids: list[uuid.UUID] = field(default_factory=list)
    research_row_id: int | None = None

    def kind_for(self, default: ApplicationKind) -> ApplicationKind:
        number = self.number or ""
        if number.startswith("hh_"):
            return ApplicationKind.HELPFUL_HAND
        if number.startswith("ds_"):
            return ApplicationKind.DIAGNOSTIC
        if number.startswith("cd_") and default == ApplicationKind.MATCHING:
            return ApplicationKind.CARD
        return default


def check_number(value: Any) -> str:
    number = clean(value)
    if not number:
        raise InvalidInput(
            "the application number (`ticket_id`) is missing", details=[{"field": "ticket_id"}]
        )
    if not NUMBER_PATTERN.match(number):
        raise InvalidInput(
            "the application number may hold only letters, digits, '_' and '-' (≤ 64)",
            details=[{"field": "ticket_id"}],
        )
    return number


def parse_form(payload: dict[str, Any], *, number_keys: tuple[str, ...] = ("ticket_id",)) -> ParsedForm:
    """Both the flat application payload and the schedule request (`form` + top level)."""
    nested = payload.get("form")
    fields: dict[str, Any] = dict(nested) if isinstance(nested, dict) else {}
    for key, value in payload.items():
        if key != "form" and (
            key not in fields or clean(value) or (isinstance(value, list | dict) and value)
        ):
            fields[key] = value
    info = fields.get("formPsyClientInfo")
    info = info if isinstance(info, dict) else {}

    raw_number = next((fields.get(key) for key in number_keys if clean(fields.get(key))), None)
    diagnoses_all = as_list(fields.get("diagnoses"))
    requests = [
        *as_list(fields.get("questions")),
        *as_list(fields.get("customQuestion")),
        *as_list(fields.get("question_to_psychologist")),
        *as_list(fields.get("_queries")),
    ]
    states = [*as_list(fields.get("clientStates")), *as_list(fields.get("customState"))]
    events = [*as_list(fields.get("traumaticEvents")), *as_list(fields.get("customTraumaticEvent"))]
    preferences = [*as_list(info.get("importancePsycho")), *as_list(info.get("customImportance"))]
    wanted = [
        *as_list(fields.get("selectedPsychologistsNames")),
        *as_list(fields.get("filtered_by_automatch_psy_names")),
        *as_list(fields.get("utm_psy")),
        *as_list(fields.get("show_only_psy")),
    ]
    slot_ids = []
    for item in as_list(fields.get("slots_objects")):
        try:
            slot_ids.append(uuid.UUID(item))
        except ValueError:
            continue
    return ParsedForm(
        number=check_number(raw_number) if raw_number is not None else None,
        raw=payload,
        client_name=clean(fields.get("name")) or clean(info.get("name")) or None,
        client_age=as_int(fields.get("age"), low=5, high=120)
        or as_int(info.get("age"), low=5, high=120)
        or as_int(fields.get("ageFilter"), low=5, high=120),
        client_sex=sex_of(info.get("sex")) or sex_of(fields.get("sex")),
        wanted_psychologist_sex=sex_of(info.get("sexPsycho")) or sex_of(fields.get("sexPsycho")),
        contact_type=clean(fields.get("contactType")) or clean(info.get("contactType")) or None,
        contact=clean(fields.get("contact")) or clean(info.get("contact")) or None,
        time_zone_label=clean(fields.get("userTimeZone")) or None,
        time_offset=fields.get("userTimeOffsetMsk"),
        requests=_meaningful(requests),
        client_states=_meaningful(states),
        traumatic_events=_meaningful(events),
        diagnoses=_meaningful(diagnoses_all),
        takes_medication=medication_of(fields.get("diagnoseMedicaments"), diagnoses_all),
        preferences=_meaningful(preferences),
        experience=clean(fields.get("lastExperience")) or clean(info.get("hasPsychoExperience")) or None,
        price_category=clean(fields.get("categoryType")) or None,
        price_rub=price_of(fields.get("categoryType"), fields.get("customCategory")),
        promocode=promocode_of(fields.get("promocode")),
        utm={key: clean(fields.get(key)) for key in UTM_KEYS if clean(fields.get(key))},
        wanted_psychologists=list(dict.fromkeys(" ".join(name.split()) for name in wanted)),
        matched_psychologists=list(
            dict.fromkeys(" ".join(n.split()) for n in as_list(fields.get("top_3_psychologists")))
        ),
        chosen_slots=as_list(fields.get("slots")),
        chosen_slot_ids=slot_ids,
        research_row_id=as_int(fields.get("bid"), low=1, high=2**31 - 1)
        or as_int(fields.get("rid"), low=1, high=2**31 - 1),
    )
