"""Telegram's limits, kept on the sender's side: ~N messages per second for the bot, one message per
interval to each chat, and a pause for everybody after a 429.

Works on the injected clock and sleep, so tests on virtual time never wait for real.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hraniteli.clock import Clock

Sleep = Callable[[float], Awaitable[None]]


@dataclass(eq=False)
class Send:
    """One send the pacer let go; `answered` is set when Telegram's answer (or the error) came."""

    chat_id: str
    answered_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids in the Bot API; people, positive."""
    return chat_id.startswith("-")


class Pacer:
    """When the next message may go, for the whole bot and for each chat.

    - Steady pacing: sends are started `1 / rate` apart, as a token bucket that may catch up on a
      short gap (`burst` sends) so the short pauses between claims do not lower the rate. At high
      rates a wait lasts for a few sends (a fifth of the burst), which then start together.
    - A sliding second: Telegram counts *arrivals* in any 1 s. A send starts only a second after
      the *answer* to the send `rate` sends before it (an answer comes after its arrival), so even
      with several sends in flight and network jitter no second holds more than `rate` arrivals.
    - Per chat: the next message to a chat starts `chat_interval` after the answer to the
      previous one (`group_interval` for a group or channel, whose ids are negative); while a
      message to a chat is in flight the chat is busy.
    - `pause(seconds)`: a 429's `retry_after` stops every send.
    """

    def __init__(
        self,
        *,
        rate_per_second: float,
        chat_interval: float,
        clock: Clock,
        group_interval: float | None = None,
        sleep: Sleep,
        burst: int = 1,
    ) -> None:
        self._interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._burst = max(burst, 1)
        self._gather = max(1, self._burst // 5)
        self._chat_interval = max(chat_interval, 0.0)
        self._group_interval = self._chat_interval if group_interval is None else max(group_interval, 0.0)
        self._clock = clock
        self._sleep = sleep
        self._next_send = 0.0
        self._paused_until = 0.0
        self._chat_ready: dict[str, float] = {}
        self._window = int(rate_per_second) if rate_per_second >= 1 else 0
        self._sends: deque[Send] = deque(maxlen=self._window or 1)

    def now(self) -> float:
        return self._clock().timestamp()

    def _window_oldest(self) -> Send | None:
        """The send `rate` sends before the next one, when the window is full."""
        if self._window and len(self._sends) == self._window:
            return self._sends[0]
        return None

    def ready_at(self, chat_id: str | None = None) -> float:
        """The earliest instant (clock seconds) a message to `chat_id` may start; inf: in flight."""
        oldest = self._window_oldest()
        window_free = 0.0
        if oldest is not None:
            window_free = math.inf if oldest.answered_at is None else oldest.answered_at + 1.0
        chat_ready = self._chat_ready.get(chat_id, 0.0) if chat_id is not None else 0.0
        return max(self._next_send, self._paused_until, chat_ready, window_free)

    async def wait_turn(self, chat_id: str) -> None:
        """Until a message to `chat_id` may start (re-checked after every sleep: a sleep may end
        early, a pause may start meanwhile). Below a microsecond, the clock's resolution, it may."""
        while True:
            oldest = self._window_oldest()
            if oldest is not None and oldest.answered_at is None:
                await oldest.done.wait()
                continue
            wait = self.ready_at(chat_id) - self.now()
            if wait < 1e-6:
                return
            # At a high rate, wake up for a few sends at once (the bucket holds them) rather than
            # once per send: a wake-up per millisecond costs the loop more than the sends.
            await self._sleep(wait + (self._gather - 1) * self._interval)

    def start(self, chat_id: str) -> Send:
        """A send to `chat_id` starts now (after `wait_turn`); the chat is busy until `answered`."""
        now = self.now()
        # The first send earns no catch-up: a burst only makes up for a gap between sends.
        earliest = now - self._interval * (self._burst - 1) if self._sends else now
        self._next_send = max(self._next_send, earliest) + self._interval
        self._chat_ready[chat_id] = math.inf
        send = Send(chat_id)
        self._sends.append(send)
        return send

    def answered(self, send: Send) -> None:
        """Counted from the answer: the next message to this chat reaches Telegram after the interval."""
        now = self.now()
        send.answered_at = now
        send.done.set()
        self._chat_ready[send.chat_id] = now + self.interval_of(send.chat_id)

    def interval_of(self, chat_id: str) -> float:
        return self._group_interval if is_group(chat_id) else self._chat_interval

    def hold_chat(self, chat_id: str, until: float) -> None:
        """Nothing to this chat before `until` (its message is retried then; none may overtake it)."""
        current = self._chat_ready.get(chat_id, 0.0)
        self._chat_ready[chat_id] = until if current == math.inf else max(current, until)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.now() + seconds)

    def busy_chats(self) -> list[str]:
        """Chats that may not take a message now: in flight, inside their interval or held."""
        now = self.now()
        self._chat_ready = {chat: at for chat, at in self._chat_ready.items() if at > now}
        return list(self._chat_ready)

    def next_chat_ready(self) -> float | None:
        """When the first busy chat that is not in flight becomes free; None: no such chat."""
        times = [at for at in self._chat_ready.values() if at != math.inf and at > self.now()]
        return min(times) if times else None
