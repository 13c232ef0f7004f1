"""A small in-memory cache of rendered responses, valid while a fingerprint and time hold."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class _Entry:
    fingerprint: str
    valid_until: datetime
    body: bytes


class RenderCache:
    """LRU of response bodies. An entry is served only while its fingerprint matches the
    database's current one and `now < valid_until` (e.g. until its first slot starts)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def get(self, key: Hashable, *, fingerprint: str, now: datetime) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry.fingerprint != fingerprint or now >= entry.valid_until:
            return None
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: Hashable, *, fingerprint: str, valid_until: datetime, body: bytes) -> None:
        if self.size <= 0:
            return
        self._entries[key] = _Entry(fingerprint, valid_until, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
