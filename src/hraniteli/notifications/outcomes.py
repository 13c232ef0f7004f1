"""What Telegram's answer to a message means for its outbox row (`Outcome`). Kept apart from the
aiogram calls (`bot_api`), so that what only records outcomes does not load aiogram.
"""

from __future__ import annotations

from dataclasses import dataclass

from hraniteli.models import OutboxState


@dataclass(frozen=True)
class Outcome:
    state: OutboxState
    error: str | None = None
    retry_after: float | None = None
    """Seconds until the next try; None: transient error, use the backoff."""
    counts_attempt: bool = True
    message_id: int | None = None
    new_chat_id: str | None = None
    flood: bool = False
    """A 429: every send pauses for `retry_after`."""
    token_rejected: bool = False
    """Telegram does not know the token: hold everything until a good one is configured."""


TOKEN_REJECTED = "Telegram rejected the bot token"  # noqa: S105 - a reason, not a secret
