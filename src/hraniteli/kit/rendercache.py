"""A small in-memory cache of rendered responses, valid while a fingerprint and time hold."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    valid_until: datetime
    body: bytes
    generation: int
    checked_at: float


class RenderCache:
    """LRU of response bodies. An entry is served while its fingerprint matches the database's
    current one and `now < valid_until` (e.g. until its first slot starts).

    `trust_seconds` lets a fresh entry skip even the fingerprint query: for that long after it
    was last checked, and only while this process's database has seen no write since (its
    write generation). Writes by other processes show after at most `trust_seconds`.
    """

    def __init__(
        self,
        size: int = 256,
        *,
        trust_seconds: float = 0.0,
        generation: Callable[[], int] = lambda: 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.trust_seconds = trust_seconds
        self._generation = generation
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def trusted(self, key: Hashable, *, now: datetime) -> bytes | None:
        """The body, if it may be served without asking the database."""
        if self.trust_seconds <= 0:
            return None
        entry = self._entries.get(key)
        if (
            entry is None
            or now >= entry.valid_until
            or entry.generation != self._generation()
            or self._monotonic() - entry.checked_at > self.trust_seconds
        ):
            return None
        return entry.body

    def get(self, key: Hashable, *, fingerprint: str, now: datetime) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry.fingerprint != fingerprint or now >= entry.valid_until:
            return None
        entry.generation = self._generation()
        entry.checked_at = self._monotonic()
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: Hashable, *, fingerprint: str, valid_until: datetime, body: bytes) -> None:
        if self.size <= 0:
            return
        self._entries[key] = _Entry(fingerprint, valid_until, body, self._generation(), self._monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
