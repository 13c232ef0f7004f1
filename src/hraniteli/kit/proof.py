"""Proofs: short unguessable tokens the service issues for a reference (an application number,
a psychologist, a research row) and checks later, so a link proves whom it was sent to.

A proven reference travels as `<reference>-<token>` inside the very parameter the unchanged
front-ends already pass along (`lead_number`, `utm_client`, `ticket_id`, the bot's `start`):
the token is the last `TOKEN_LENGTH` characters, so references may contain `-` themselves.
Only characters Telegram allows in a `start` parameter are used (`A-Za-z0-9_-`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

TOKEN_LENGTH = 22
"""132 bits of an HMAC-SHA256, base64url."""
SEPARATOR = "-"


class Purpose(StrEnum):
    """What a token vouches for; a token for one purpose proves nothing for another."""

    CLIENT = "client"  # the owner of an application (by number)
    PSYCHOLOGIST = "psychologist"  # a psychologist (by id)
    RESEARCH = "research"  # the submitter of a research questionnaire row (by row id)


@dataclass(frozen=True)
class Claimed:
    """A value split into the reference and the token it carries (None: it carries none)."""

    ref: str
    token: str | None


def split(value: str) -> Claimed:
    value = value.strip()
    if len(value) > TOKEN_LENGTH + 1 and value[-TOKEN_LENGTH - 1] == SEPARATOR:
        return Claimed(value[: -TOKEN_LENGTH - 1], value[-TOKEN_LENGTH:])
    return Claimed(value, None)


@dataclass(frozen=True)
class Proofs:
    """Issues and checks tokens with the service's signing key."""

    key: bytes

    def token(self, purpose: Purpose, ref: str) -> str:
        mac = hmac.new(self.key, f"{purpose}\x1f{ref}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii")[:TOKEN_LENGTH]

    def attach(self, purpose: Purpose, ref: str) -> str:
        """`ref` with its proof, to put in a link."""
        return f"{ref}{SEPARATOR}{self.token(purpose, ref)}"

    def is_valid(self, purpose: Purpose, ref: str, token: str | None) -> bool:
        if not token or not ref:
            return False
        return hmac.compare_digest(token.encode(), self.token(purpose, ref).encode())

    def proven(self, purpose: Purpose, value: str) -> str | None:
        """The reference `value` names if it carries a valid proof of it, else None."""
        claimed = split(value)
        return claimed.ref if self.is_valid(purpose, claimed.ref, claimed.token) else None

    def keyed_hash(self, label: str, value: str) -> str:
        """A stable pseudonym of `value` (e.g. an IP address) that cannot be reversed without the key."""
        mac = hmac.new(self.key, f"hash:{label}\x1f{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii")[:32]
