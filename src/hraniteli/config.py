"""One Settings object, read once from the environment (prefix HRANITELI_) and `.env`."""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

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
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    """Opening a connection to PostgreSQL gives up after this (an outage answers 503 at once)."""
    database_statement_timeout_seconds: float = Field(default=30.0, gt=0)
    """One statement gives up after this: PostgreSQL's statement_timeout, the client's own wait
    for an answer (a network partition), and SQLite's wait for the write lock."""
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """Waiting for a free connection of the pool gives up after this."""
    database_max_attempts: int = Field(default=3, ge=1, le=10)
    """Runs of one request that hit a deadlock or serialization failure (1: no retry)."""

    admin_api_key: SecretStr | None = Field(
        default=None,
        description="Key for internal operations, sent as X-API-Key. Unset: those endpoints answer 503.",
    )
    secret_key: SecretStr | None = None
    """Signs the proofs in the links the service sends (re-booking, feedback, Helpful Hand, the
    bot's start link). Unset: a random key the migrations stored in the database, shared by every
    process. Changing it invalidates the links already sent."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    """Base URL of links (editor links printed and sent in messages). Unset or empty: where the
    server listens, http://{host}:{port}, so `serve --port N` gives working links."""
    data_dir: Path = Path("var")
    """The service's own files (the demo admin key). Unset: the SQLite file's directory, else var."""
    access_log: bool = True
    """Log each HTTP request (method, route, status, duration; never query, headers or body)."""

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
    schedule_cache_trust_seconds: float = 1.0
    """A cached schedule checked this recently, with no write in this process since, is served
    without asking the database; other processes' changes show within this time (0: always ask)."""

    # --- abuse: rate and size limits ----------------------------------------------------------
    rate_limit_storage: str = "memory://"
    """Where the rate limits count: this process's memory, or `redis://host:6379/0` so that
    every process of an installation shares them (Redis down: requests are let through)."""
    rate_limit_writes: str = "20/minute;200/hour"
    """Public writes (applications, questionnaires, feedback, re-booking, claims) per address."""
    rate_limit_contact_writes: str = "5/hour;20/day"
    """Applications per contact (a phone number, a Telegram username), whatever the address."""
    rate_limit_tracking: str = "240/minute"
    """Form analytics calls per address (a form reports every step)."""
    rate_limit_lookups: str = "60/minute;600/hour"
    """Look-ups by an application number or a row (Helpful Hand and re-booking pages) per address."""
    rate_limit_refused: str = "10/minute;50/hour"
    """Refused credentials (a wrong API key, a link without its proof, a chat that could not prove
    an application is its own) per address or chat; once spent, further attempts get 429."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """Largest request body accepted (413 above it, before it is read)."""

    # --- the session ladder (hours before the session start unless said otherwise) ----------
    ladder_confirm_hours: float = 24
    ladder_repeat_hours: float = 22
    ladder_alert_hours: float = 21
    ladder_cancel_hours: float = 18
    ladder_reminder_hours: float = 2
    ladder_feedback_after_hours: float = 1
    """After the session's end."""
    ladder_offer_days: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [5.0, 21.0])
    """Days after the start when the client is offered the psychologist's free slots again."""
    ladder_min_answer_hours: float = 3
    """Least time between the first confirmation request and an auto-cancel."""

    # --- Telegram -------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = None
    """Without a token the outbox is still written; messages wait as `held`, none is lost."""
    telegram_api_url: str = "https://api.telegram.org"
    """Bot API base URL (tests point it at the fake server in tests/fakes)."""
    telegram_admin_chat_id: str | None = None
    """The administrators' chat: alerts, hand-offs, cancellations."""
    telegram_rate_per_second: float = 30.0
    """Messages per second for the whole bot (Telegram allows about 30)."""
    telegram_chat_interval_seconds: float = 1.0
    """Least time between two messages to one chat (Telegram allows about 1/s)."""
    telegram_group_interval_seconds: float = Field(default=3.0, ge=0)
    """Least time between two messages to one group or channel, such as the admin chat (Telegram
    allows about 20 a minute)."""
    telegram_max_attempts: int = 8
    telegram_max_in_flight: int = Field(default=10, ge=1, le=100)
    """Sends waiting for Telegram's answer at once (an answer takes ~50–100 ms: one at a time
    could not reach 30/s). A crash may resend the messages answered but not yet recorded:
    at most one per chat, from the last second."""
    bot_username: str = "HraniLiveBot"
    telegram_webhook_secret: SecretStr | None = None
    """The bot's updates arrive at POST /telegram/webhook with this secret in the
    X-Telegram-Bot-Api-Secret-Token header (set it with setWebhook). Unset: the route answers 404."""
    rebooking_url: str = "https://psy.hrani.live/reassigment"
    helpful_hand_claim_url: str = "https://psy.hrani.live/confirm-help-hand-by-psychologist"
    """The page a psychologist opens to take a Helpful Hand application (its link carries proof)."""
    helpful_hand_booking_url: str = "https://hrani.live/help_hand_confirm"
    """The page where a Helpful Hand client picks a slot of the psychologist who took them; the
    service sends them its link (with proof) when a psychologist takes the application."""

    # --- links in messages --------------------------------------------------------------------
    client_feedback_url: str = "https://psy.hrani.live/client-feedback-anketa"
    psychologist_feedback_url: str = "https://psy.hrani.live/psychologist-feedback-anketa"
    preparation_tips_url: str = "https://hrani.live/prepare"

    # --- meeting links (Zoom → Google Meet → Jitsi) -------------------------------------------
    zoom_accounts: str = ""
    """Zoom Server-to-Server OAuth apps, `account_id:client_id:client_secret` separated by `;`."""
    zoom_api_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us/oauth/token"
    google_service_account_file: str | None = None
    """Service-account JSON key with domain-wide delegation, for Calendar events with Meet."""
    google_calendar_id: str = "primary"
    google_calendar_subject: str | None = None
    google_api_url: str = "https://www.googleapis.com/calendar/v3"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    jitsi_base_url: str = "https://meet.jit.si"

    # --- the worker ----------------------------------------------------------------------------
    worker_poll_seconds: float = 5.0
    worker_batch_size: int = 100
    worker_in_process: bool | None = None
    """Run the worker inside `hraniteli serve` (default: yes on SQLite, no on PostgreSQL)."""

    log_level: str = "info"

    @field_validator("ladder_offer_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _ladder_in_order(self) -> Settings:
        ladder = [
            self.ladder_confirm_hours,
            self.ladder_repeat_hours,
            self.ladder_alert_hours,
            self.ladder_cancel_hours,
            self.ladder_reminder_hours,
        ]
        if any(a < b for a, b in itertools.pairwise(ladder)) or ladder[-1] < 0:
            raise ValueError("the ladder runs confirm ≥ repeat ≥ alert ≥ cancel ≥ reminder ≥ 0 hours")
        if len(self.ladder_offer_days) != 2 or min(self.ladder_offer_days) <= 0:
            raise ValueError("ladder_offer_days: two positive numbers of days, e.g. 5,21")
        return self

    @model_validator(mode="after")
    def _locations_follow_what_is_set(self) -> Settings:
        if not self.public_url or "public_url" not in self.model_fields_set:
            self.public_url = f"http://{_link_host(self.host)}:{self.port}"
        if "data_dir" not in self.model_fields_set and self.is_sqlite:
            database = make_url(self.database_url).database
            if database and database != ":memory:":
                self.data_dir = Path(database).parent
        return self

    @field_validator(
        "rate_limit_writes",
        "rate_limit_contact_writes",
        "rate_limit_tracking",
        "rate_limit_lookups",
        "rate_limit_refused",
    )
    @classmethod
    def _check_rate_rule(cls, value: str) -> str:
        from hraniteli.kit.ratelimit import parse_rule

        try:
            parse_rule(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '20/minute;200/hour': {value!r}") from exc
        return value

    @property
    def rate_limits(self) -> dict[str, str]:
        """The rate-limit rules by name (see `hraniteli.api.deps`)."""
        return {
            "writes": self.rate_limit_writes,
            "contact_writes": self.rate_limit_contact_writes,
            "tracking": self.rate_limit_tracking,
            "lookups": self.rate_limit_lookups,
            "refused": self.rate_limit_refused,
        }

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


def _link_host(host: str) -> str:
    """The host part of a link to a server bound to HOST (all interfaces: this machine)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"[{address}]" if address.version == 6 else str(address)


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; entry points call this and pass the result down."""
    return Settings(**overrides)  # type: ignore[arg-type]
