"""Psychologist payloads of the clean API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import inspect

from hraniteli.kit.moscow import BadTimeZone, zone
from hraniteli.models.enums import ClientSexAccepted, PsychologistGroup, Sex
from hraniteli.models.psychologist import Psychologist

NOT_NULLABLE = tuple(
    sorted({column.key for column in inspect(Psychologist).columns if not column.nullable} | {"education"})
)
"""Columns (and the education list) the database keeps non-empty: `null` for one of these
fields is refused, naming it (it used to be stored and then fail the answer, or to be reported
as a name conflict)."""


class EducationItem(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    title: str = Field(default="", max_length=2000)
    program_title: str = Field(default="", max_length=2000)
    doc_type: str = Field(default="", max_length=200)
    year: int | None = Field(default=None, ge=1900, le=2100)


class PsychologistFields(BaseModel):
    """Every editable field; all optional so the same model serves PATCH."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=200)
    telegram_id: str | None = Field(default=None, max_length=64)
    time_zone: str | None = Field(default=None, max_length=64)
    sex: Sex | None = None
    age: int | None = Field(default=None, ge=18, le=120)
    city: str | None = Field(default=None, max_length=200)
    about: str | None = Field(default=None, max_length=10_000)
    experience: str | None = Field(default=None, max_length=64)
    personal_therapy_type: str | None = Field(default=None, max_length=2000)
    personal_therapy_duration: str | None = Field(default=None, max_length=2000)
    main_modal: str | None = Field(default=None, max_length=200)
    additional_modals: list[str] | None = None
    skills: list[str] | None = None
    queries: list[str] | None = None
    telegram_link: str | None = Field(default=None, max_length=300)
    site_link: str | None = Field(default=None, max_length=300)
    vk_link: str | None = Field(default=None, max_length=300)
    photo_url: str | None = Field(default=None, max_length=500)
    video_url: str | None = Field(default=None, max_length=500)
    contact: str | None = Field(default=None, max_length=300)
    is_married: bool | None = None
    has_children: bool | None = None
    is_verified: bool | None = None
    in_community: bool | None = None
    is_onboarding_finished: bool | None = None
    min_price: int | None = Field(default=None, ge=0, le=1_000_000)
    max_price: int | None = Field(default=None, ge=0, le=1_000_000)
    is_first_free: bool | None = None
    is_help_hand: bool | None = None
    is_all_with_price: bool | None = None
    does_diagnostics: bool | None = None
    help_hand_min_price: int | None = Field(default=None, ge=0, le=100_000)
    group: PsychologistGroup | None = None
    debt: int | None = Field(default=None, ge=0, le=10_000)
    sessions_provided: int | None = Field(default=None, ge=0, le=10_000)
    client_sex: ClientSexAccepted | None = None
    min_client_age: int | None = Field(default=None, ge=0, le=120)
    max_client_age: int | None = Field(default=None, ge=0, le=120)
    is_active: bool | None = None
    allow_assignment: bool | None = None
    education: list[EducationItem] | None = None

    @field_validator(*NOT_NULLABLE, check_fields=False)
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zone(value)
            except BadTimeZone as exc:
                raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _ranges(self) -> PsychologistFields:
        if (
            self.min_client_age is not None
            and self.max_client_age is not None
            and self.min_client_age > self.max_client_age
        ):
            raise ValueError("min_client_age must not exceed max_client_age")
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self


class PsychologistCreate(PsychologistFields):
    name: str = Field(min_length=2, max_length=200)


class PsychologistUpdate(PsychologistFields):
    pass


class PsychologistOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    telegram_id: str | None
    time_zone: str
    sex: Sex | None
    age: int | None
    city: str | None
    about: str | None
    experience: str | None
    personal_therapy_type: str | None
    personal_therapy_duration: str | None
    main_modal: str | None
    additional_modals: list[str]
    skills: list[str]
    queries: list[str]
    telegram_link: str | None
    site_link: str | None
    vk_link: str | None
    photo_url: str | None
    video_url: str | None
    contact: str | None
    is_married: bool | None
    has_children: bool | None
    is_verified: bool
    in_community: bool
    is_onboarding_finished: bool
    min_price: int | None
    max_price: int | None
    is_first_free: bool
    is_help_hand: bool
    is_all_with_price: bool
    does_diagnostics: bool
    help_hand_min_price: int
    group: PsychologistGroup
    debt: int
    sessions_provided: int
    client_sex: ClientSexAccepted
    min_client_age: int
    max_client_age: int
    is_active: bool
    allow_assignment: bool
    education: list[EducationItem]
    created_at: datetime
    updated_at: datetime


class PsychologistCreated(BaseModel):
    id: uuid.UUID
    name: str
    editor_secret: str
    editor_url: str


class SecretRotated(BaseModel):
    id: uuid.UUID
    editor_secret: str
    editor_url: str
