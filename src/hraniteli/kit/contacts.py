"""Contacts as people type them ("+7 (999) 123-45-67", "@Anna_K", "t.me/anna_k") reduced to one
comparable key, so the same person is recognised however they wrote it."""

from __future__ import annotations

import re

_PHONE_CHARS = re.compile(r"[+\d\s().\-]+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_TELEGRAM_PREFIXES = ("https://t.me/", "http://t.me/", "t.me/", "https://telegram.me/", "telegram.me/", "@")


def phone_digits(value: str | None) -> str | None:
    """The international digits of a phone number (Russian 8… and 10-digit forms as 7…), or None."""
    text = (value or "").strip()
    if not text or not _PHONE_CHARS.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    return digits if 10 <= len(digits) <= 15 else None


def telegram_username(value: str | None) -> str | None:
    """The lower-cased Telegram username a contact names ("@Anna_K", "t.me/anna_k"), or None."""
    text = (value or "").strip()
    for prefix in _TELEGRAM_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.strip("/")
    return text.lower() if _USERNAME.fullmatch(text) else None


def contact_key(contact_type: str | None, contact: str | None) -> str | None:
    """`tel:<digits>`, `tg:<username>` or `<type>:<text>`; None when there is no contact."""
    text = (contact or "").strip()
    if not text:
        return None
    digits = phone_digits(text)
    if digits:
        return f"tel:{digits}"
    kind = (contact_type or "").strip().lower()
    if kind in ("", "telegram", "tg"):
        username = telegram_username(text)
        if username:
            return f"tg:{username}"
    return f"{kind or 'other'}:{text.lower()}"[:320]
