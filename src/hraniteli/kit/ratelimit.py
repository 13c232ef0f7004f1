"""Rate limits by rule and key (an address, a contact, a chat), on the `limits` library: in
process memory by default, or in Redis so that every process of an installation shares them.

A rule is a `limits` string such as "20/minute;200/hour" (moving windows; every part must hold).
An empty rule limits nothing. When the storage fails (Redis down), requests are let through and
the failure is logged: the limits protect the service, they must not take it down.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Mapping

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger("hraniteli.ratelimit")


class RateLimited(Exception):
    """A rule's budget for a key is spent; try again after `retry_after` seconds."""

    def __init__(self, rule: str, retry_after: int) -> None:
        super().__init__(f"rate limit {rule!r} reached")
        self.rule = rule
        self.retry_after = retry_after


def parse_rule(spec: str) -> tuple[RateLimitItem, ...]:
    """The parts of a rule such as "20/minute;200/hour" (ValueError when it is not one)."""
    return tuple(parse_many(spec)) if spec.strip() else ()


def _storage(uri: str) -> Storage:
    if "://" not in uri:
        raise ValueError(f"not a storage URI: {uri!r} (memory:// or redis://host:6379/0)")
    scheme = uri.split("://", 1)[0]
    if scheme in ("redis", "rediss", "redis+unix"):
        # short timeouts: a Redis that hangs must not hang the requests it only limits
        storage = storage_from_string(
            f"async+{uri}", implementation="redispy", socket_timeout=1, socket_connect_timeout=1
        )
    else:
        storage = storage_from_string(uri if scheme.startswith("async+") else f"async+{uri}")
    assert isinstance(storage, Storage)
    return storage


class RateLimiter:
    def __init__(self, storage_uri: str, rules: Mapping[str, str]) -> None:
        self._storage = _storage(storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules = {name: parse_rule(spec) for name, spec in rules.items()}

    async def hit(self, rule: str, key: str) -> None:
        """Count one request of `key` against `rule`; RateLimited when the budget is spent."""
        for item in self._rules.get(rule, ()):
            try:
                allowed = await self._limiter.hit(item, rule, key)
                if allowed:
                    continue
                stats = await self._limiter.get_window_stats(item, rule, key)
            except Exception as exc:  # any storage failure: let the request through
                log.warning("rate limit storage failed (%s): request let through", type(exc).__name__)
                return
            raise RateLimited(rule, max(1, math.ceil(stats.reset_time - time.time())))

    async def check(self, rule: str, key: str) -> None:
        """RateLimited when `key` has spent its budget of `rule`, without counting a request."""
        for item in self._rules.get(rule, ()):
            try:
                if await self._limiter.test(item, rule, key):
                    continue
                stats = await self._limiter.get_window_stats(item, rule, key)
            except Exception as exc:
                log.warning("rate limit storage failed (%s): request let through", type(exc).__name__)
                return
            raise RateLimited(rule, max(1, math.ceil(stats.reset_time - time.time())))

    async def wait(self, rule: str, key: str) -> int | None:
        """Seconds until `key` may try again under `rule`, or None when it may now."""
        try:
            await self.check(rule, key)
        except RateLimited as exc:
            return exc.retry_after
        return None

    async def count(self, rule: str, key: str) -> None:
        """Count one request, however far over the budget (the next check answers for it)."""
        with contextlib.suppress(RateLimited):
            await self.hit(rule, key)
