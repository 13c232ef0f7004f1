"""Application, matching and Helpful Hand payloads of the clean API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hraniteli.kit.bounds import Instant
from hraniteli.kit.proof import split
from hraniteli.models.enums import ApplicationKind, ApplicationStatus, Sex

MAX_NUMBER = 40

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    age: int | None = Field(default=None, ge=5, le=120)
    sex: Sex | None = None
    contact_type: str | None = Field(default=None, max_length=32)
    contact: str | None = Field(default=None, max_length=300)
    time_zone_label: str | None = Field(default=None, max_length=64, description="'МСК', 'МСК+4' or IANA")


class MatchingInput(BaseModel):
    """What matching reads from an application."""

    model_config = ConfigDict(extra="forbid")

    kind: ApplicationKind = ApplicationKind.MATCHING
    age: int | None = Field(default=None, ge=5, le=120)
    sex: Sex | None = None
    wanted_psychologist_sex: Sex | None = None
    client_states: list[Label] = Field(default_factory=list, max_length=50)
    traumatic_events: list[Label] = Field(default_factory=list, max_length=50)
    diagnoses: list[Label] = Field(default_factory=list, max_length=20)
    takes_medication: bool | None = None
    requests: list[Label] = Field(default_factory=list, max_length=50)
    preferences: list[Label] = Field(default_factory=list, max_length=20)
    price_rub: int | None = Field(default=None, ge=0, le=1_000_000)


class ApplicationCreate(MatchingInput):
    number: str = Field(
        pattern=r"^[A-Za-z0-9_\-]{1,63}$",
        description="The client page's application number (at most 40 characters, so that the bot's "
        "start link with its proof fits Telegram's 64); to repeat it as its owner, the `proof` "
        "the first answer gave",
    )

    @field_validator("number")
    @classmethod
    def _number_fits_the_bot_link(cls, value: str) -> str:
        if len(split(value).ref) > MAX_NUMBER:
            raise ValueError(f"at most {MAX_NUMBER} characters")
        return value

    client: ClientIn = Field(default_factory=ClientIn)
    price_category: str | None = Field(default=None, max_length=64)
    promocode: str | None = Field(default=None, max_length=300)
    utm: dict[str, str] = Field(default_factory=dict)
    wanted_psychologists: list[Label] = Field(default_factory=list, max_length=20)
    chosen_slot_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    chosen_starts: list[Instant] = Field(default_factory=list, max_length=20)


class ApplicationAccepted(BaseModel):
    number: str
    status: ApplicationStatus | None
    """None when the caller repeated a number without proving it is theirs."""
    created: bool
    booking_id: uuid.UUID | None
    session_start_at: datetime | None
    proof: str | None = None
    """On creation only: the number with the client's proof (`<number>-<token>`); the client's
    pages and links use it to show and change the application."""
    bot_link: str | None = None
    """On creation only: the bot's start link that lets this client's chat receive its messages."""


class CandidateOut(BaseModel):
    psychologist_id: uuid.UUID
    rank: int
    score: float
    reason: str


class HistoryOut(BaseModel):
    at: datetime
    status: ApplicationStatus
    note: str | None


class ApplicationOut(BaseModel):
    """The full application, for administrators."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    kind: ApplicationKind
    status: ApplicationStatus
    client_name: str | None
    client_age: int | None
    client_sex: Sex | None
    contact_type: str | None
    contact: str | None
    requests: list[str]
    client_states: list[str]
    traumatic_events: list[str]
    diagnoses: list[str]
    takes_medication: bool | None
    preferences: list[str]
    wanted_psychologist_sex: Sex | None
    price_category: str | None
    promocode: str | None
    utm: dict[str, str]
    wanted_psychologists: list[str]
    chosen_slots: list[str]
    claimed_by_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    previous_id: uuid.UUID | None
    result_reason: str | None
    created_at: datetime
    updated_at: datetime
    candidates: list[CandidateOut] = Field(default_factory=list)
    history: list[HistoryOut] = Field(default_factory=list)


class VerdictOut(BaseModel):
    psychologist_id: uuid.UUID
    name: str
    eligible: bool
    score: float
    reason: str


class OpenTicketOut(BaseModel):
    number: str
    price_category: str | None
    client_age: int | None
    client_sex: str | None
    client_states: list[str]
    traumatic_events: list[str]
    has_diagnosis: bool
    created_at: datetime


class HelpfulHandBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID


class FunnelStepOut(BaseModel):
    step: str
    sessions: int


class Funnel(BaseModel):
    form_type: str | None
    steps: list[FunnelStepOut]
