"""One Settings object, read once from the environment (prefix HRANITELI_) and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "hraniteli.sqlite3"


class Settings(BaseSettings):
    """Everything the service can be configured with; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="HRANITELI_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_echo: bool = False
    database_pool_size: int = 10

    admin_api_key: SecretStr | None = Field(
        default=None,
        description="Key for internal operations, sent as X-API-Key. Unset: those endpoints answer 503.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    """Base URL printed in editor links (the psychologists' web pages live there)."""

    default_time_zone: str = "Europe/Moscow"
    """IANA zone of new psychologists and clients, and of the compat layer ("МСК")."""

    schedule_closed_weekdays: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [6])
    """Weekdays (0 = Monday) on which the service takes no sessions; Sunday by default."""

    schedule_window_days: int = 28
    """How far ahead the schedule endpoints look when the caller names no window."""

    slot_duration_minutes: int = 60
    min_booking_lead_minutes: int = 0
    """A slot closer than this to now cannot be booked (0: any future slot)."""

    schedule_cache_size: int = 256
    """Rendered schedule responses kept in memory, keyed by the slots' revisions (0: no cache)."""

    log_level: str = "info"

    @field_validator("schedule_closed_weekdays", mode="before")
    @classmethod
    def _split_weekdays(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("schedule_closed_weekdays")
    @classmethod
    def _check_weekdays(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 6 for day in value):
            raise ValueError("weekdays are 0 (Monday) … 6 (Sunday)")
        return sorted(set(value))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; entry points call this and pass the result down."""
    return Settings(**overrides)  # type: ignore[arg-type]
