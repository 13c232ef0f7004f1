"""Matching rules: pure functions from a client's application and psychologists' profiles to
an ordered list of candidates, each with the reason it was (or was not) chosen.

The rules, in the order they are checked (docs/matching.md explains each one):

Hard filters — a psychologist failing any of them is not offered:
  1. active: the profile is active and open to assignment;
  2. group: the flow's pool (matching → "Сообщество"; diagnostic → takes diagnostics;
     Helpful Hand → Helpful Hand mode; a card application → any group);
  3. age: the client's age lies within the psychologist's client age limits;
  4. client sex: the psychologist accepts clients of this sex;
  5. psychologist sex: the client's wish, if any;
  6. skills: every sensitive state, traumatic event or diagnosis the client reports is one
     the psychologist agreed to work with;
  7. price: Helpful Hand — the client's price is at least the psychologist's Helpful Hand
     minimum; otherwise a free first session needs the first-free mode, a price needs
     the psychologist's minimum price to fit it;
  8. quota: debt − sessions provided − sessions booked from today to month end > 0.

Score — orders the candidates that pass:
  requests covered ×3, preferences met ×2, quota left ×0.5 (up to 10), free slots ×0.1 (up to 20).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hraniteli.models.enums import ApplicationKind, ClientSexAccepted, PsychologistGroup, Sex

SKILL_PSYCHIATRIC = "Есть диагностированное психиатрическое заболевание (ПРЛ, БАР, ПТСР и др)"
SKILL_MEDICATION = "Прохожу/назначено медикаментозное лечение от невролога/психиатра"
SKILL_PARENTHOOD = (
    "Беременность, родительство, послеродовая депрессия, проблемы в отношениях с детьми до 18 лет"
)
SKILL_ABUSE = "Абьюзивные отношения, домашнее насилие"
SKILL_ADDICTION = "Алкогольные и химические зависимости"
SKILL_PANIC = "Состояние ужаса, панические атаки"
SKILL_SUICIDE = "Намерения или попытки суицида"
SKILL_LOSS = "Утрата близкого"
SKILL_TERMINAL = "Диагностированное смертельное заболевание"
SKILL_ADULT_ABUSE = "Сексуальное насилие во взрослом возрасте"
SKILL_CHILD_ABUSE = "Сексуальное насилие в детстве"
SKILL_FEMININITY = "Раскрытие женственности и сексуальности"


@functools.lru_cache(maxsize=8192)
def normalize(label: str) -> str:
    """Compare labels without case, parentheticals, punctuation runs or extra spaces."""
    text = re.sub(r"\([^)]*\)", " ", label.lower()).replace("ё", "е")
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


_SENSITIVE: dict[str, str] = {
    normalize(label): skill
    for label, skill in [
        (SKILL_PARENTHOOD, SKILL_PARENTHOOD),
        (SKILL_ABUSE, SKILL_ABUSE),
        (SKILL_ADDICTION, SKILL_ADDICTION),
        (SKILL_PANIC, SKILL_PANIC),
        (SKILL_SUICIDE, SKILL_SUICIDE),
        ("Проблемы с раскрытием женственности и сексуальности", SKILL_FEMININITY),
        (SKILL_FEMININITY, SKILL_FEMININITY),
        (SKILL_LOSS, SKILL_LOSS),
        (SKILL_TERMINAL, SKILL_TERMINAL),
        (SKILL_ADULT_ABUSE, SKILL_ADULT_ABUSE),
        (SKILL_CHILD_ABUSE, SKILL_CHILD_ABUSE),
        ("Есть диагностированное психиатрическое заболевание", SKILL_PSYCHIATRIC),
        ("Принимает медикаменты", SKILL_MEDICATION),
        (SKILL_MEDICATION, SKILL_MEDICATION),
    ]
}

PREFERENCE_FAMILY = "Опыт семейной жизни, собственные дети"
PREFERENCE_SEVERAL_METHODS = "Знание более 1 метода терапии (модальности)"
PREFERENCE_SCIENCE = "Научность, доказательная база подхода, без эзотерики"
EVIDENCE_BASED_MODALS = frozenset({"кпт"})
NO_ADDITIONAL_MODAL = normalize("Нет дополнительной модальности")


@dataclass(frozen=True)
class ClientProfile:
    kind: ApplicationKind = ApplicationKind.MATCHING
    age: int | None = None
    sex: Sex | None = None
    wanted_psychologist_sex: Sex | None = None
    client_states: tuple[str, ...] = ()
    traumatic_events: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    takes_medication: bool | None = None
    requests: tuple[str, ...] = ()
    preferences: tuple[str, ...] = ()
    price_rub: int | None = None
    """The price the client is ready to pay per session; 0 means free; None: not said."""


@dataclass(frozen=True)
class PsychologistProfile:
    id: uuid.UUID
    name: str
    sex: Sex | None = None
    client_sex: ClientSexAccepted = ClientSexAccepted.ANY
    min_client_age: int = 18
    max_client_age: int = 100
    skills: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    group: PsychologistGroup = PsychologistGroup.COMMUNITY
    is_active: bool = True
    allow_assignment: bool = True
    is_help_hand: bool = False
    help_hand_min_price: int = 0
    is_first_free: bool = False
    does_diagnostics: bool = False
    min_price: int | None = None
    main_modal: str | None = None
    additional_modals: tuple[str, ...] = ()
    is_married: bool | None = None
    has_children: bool | None = None
    quota_left: int = 0
    free_slots: int = 0


@dataclass(frozen=True)
class Verdict:
    psychologist_id: uuid.UUID
    name: str
    eligible: bool
    score: float
    reason: str
    failed: tuple[str, ...] = field(default=())


@functools.lru_cache(maxsize=1024)
def _required_skills(client: ClientProfile) -> tuple[str, ...]:
    return tuple(required_skills(client))


@functools.lru_cache(maxsize=4096)
def _normalized(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(label) for label in labels)


def required_skills(client: ClientProfile) -> list[str]:
    """The skills a psychologist needs for what the client reported (order kept, no repeats)."""
    labels: list[str] = [*client.client_states, *client.traumatic_events, *client.diagnoses]
    if client.takes_medication:
        labels.append(SKILL_MEDICATION)
    needed: list[str] = []
    for label in labels:
        key = normalize(label)
        skill = _SENSITIVE.get(key)
        if skill is None and key.startswith(normalize("Есть диагностированное психиатрическое")):
            skill = SKILL_PSYCHIATRIC
        if skill is not None and skill not in needed:
            needed.append(skill)
    return needed


def _in_pool(client: ClientProfile, psychologist: PsychologistProfile) -> bool:
    if client.kind == ApplicationKind.HELPFUL_HAND:
        return psychologist.is_help_hand
    if client.kind == ApplicationKind.DIAGNOSTIC:
        return psychologist.does_diagnostics
    if client.kind == ApplicationKind.CARD:
        return True
    return psychologist.group == PsychologistGroup.COMMUNITY


def _price_fits(client: ClientProfile, psychologist: PsychologistProfile) -> bool:
    if client.kind == ApplicationKind.HELPFUL_HAND:
        return (client.price_rub or 0) >= psychologist.help_hand_min_price
    if client.price_rub is None:
        return True
    if client.price_rub == 0:
        return psychologist.is_first_free
    return psychologist.min_price is None or psychologist.min_price <= client.price_rub


QUOTA_EXHAUSTED = "квота на этот месяц исчерпана"


def failed_filters(
    client: ClientProfile, psychologist: PsychologistProfile, *, check_quota: bool = True
) -> list[str]:
    """Human-readable reasons the psychologist cannot take this client (empty: eligible).

    `check_quota=False` when the client chose this psychologist by name: the quota steers the
    service's own assignments, never a client's explicit choice; the safety filters still hold.
    """
    failed = []
    if not psychologist.is_active or not psychologist.allow_assignment:
        failed.append("не принимает новых клиентов")
    if not _in_pool(client, psychologist):
        failed.append("не работает в этом направлении")
    if (
        client.age is not None
        and not psychologist.min_client_age <= client.age <= psychologist.max_client_age
    ):
        failed.append(f"работает с клиентами {psychologist.min_client_age}–{psychologist.max_client_age} лет")
    if client.sex is not None and str(psychologist.client_sex) not in (
        ClientSexAccepted.ANY,
        str(client.sex),
    ):
        failed.append("не работает с клиентами этого пола")
    if client.wanted_psychologist_sex is not None and str(psychologist.sex) != str(
        client.wanted_psychologist_sex
    ):
        failed.append("клиент просил психолога другого пола")
    skills = _normalized(psychologist.skills)
    missing = [skill for skill in _required_skills(client) if normalize(skill) not in skills]
    if missing:
        failed.append("не работает с: " + "; ".join(missing))
    if not _price_fits(client, psychologist):
        failed.append("цена не подходит")
    if check_quota and psychologist.quota_left <= 0:
        failed.append(QUOTA_EXHAUSTED)
    return failed


def _covered_requests(client: ClientProfile, psychologist: PsychologistProfile) -> list[str]:
    queries = [key for key in (normalize(query) for query in psychologist.queries) if key]
    covered = []
    for label in [*client.client_states, *client.traumatic_events, *client.requests]:
        key = normalize(label)
        if key and any(
            key == query or (len(key) > 12 and (key in query or query in key)) for query in queries
        ):
            covered.append(label)
    return covered


def _preferences_met(client: ClientProfile, psychologist: PsychologistProfile) -> list[str]:
    met = []
    wanted = {normalize(preference) for preference in client.preferences}
    if normalize(PREFERENCE_FAMILY) in wanted and (psychologist.is_married or psychologist.has_children):
        met.append(PREFERENCE_FAMILY)
    additional = [m for m in psychologist.additional_modals if m and normalize(m) != NO_ADDITIONAL_MODAL]
    if normalize(PREFERENCE_SEVERAL_METHODS) in wanted and additional:
        met.append(PREFERENCE_SEVERAL_METHODS)
    if (
        normalize(PREFERENCE_SCIENCE) in wanted
        and normalize(psychologist.main_modal or "") in EVIDENCE_BASED_MODALS
    ):
        met.append(PREFERENCE_SCIENCE)
    return met


def judge(client: ClientProfile, psychologist: PsychologistProfile, *, check_quota: bool = True) -> Verdict:
    failed = failed_filters(client, psychologist, check_quota=check_quota)
    if failed:
        return Verdict(psychologist.id, psychologist.name, False, 0.0, "; ".join(failed), tuple(failed))
    covered = _covered_requests(client, psychologist)
    preferences = _preferences_met(client, psychologist)
    quota = min(psychologist.quota_left, 10)
    slots = min(psychologist.free_slots, 20)
    score = 3 * len(covered) + 2 * len(preferences) + 0.5 * quota + 0.1 * slots
    parts = ["подходит по всем обязательным условиям"]
    skills = required_skills(client)
    if skills:
        parts.append("работает с: " + "; ".join(skills))
    if covered:
        parts.append(f"запросы ({len(covered)}): " + "; ".join(covered))
    if preferences:
        parts.append("предпочтения: " + "; ".join(preferences))
    parts.append(f"квота: осталось {psychologist.quota_left}")
    parts.append(f"свободных слотов: {psychologist.free_slots}")
    return Verdict(psychologist.id, psychologist.name, True, round(score, 3), "; ".join(parts))


def rank(
    client: ClientProfile, psychologists: Iterable[PsychologistProfile], *, check_quota: bool = True
) -> list[Verdict]:
    """Eligible psychologists best first (score, then quota left, then name)."""
    profiles = {p.id: p for p in psychologists}
    verdicts = (judge(client, p, check_quota=check_quota) for p in profiles.values())
    eligible = [v for v in verdicts if v.eligible]
    return sorted(eligible, key=lambda v: (-v.score, -profiles[v.psychologist_id].quota_left, v.name))


def name_order(verdicts: Sequence[Verdict]) -> list[str]:
    return [verdict.name for verdict in verdicts]
