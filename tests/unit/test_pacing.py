"""The sender's pacer on virtual time: steady pacing, the sliding second over arrivals with several
sends in flight, the per-chat interval from the answer, holds and pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from hraniteli.clock import FrozenClock
from hraniteli.notifications.pacing import Pacer, Send

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


class Virtual:
    def __init__(self) -> None:
        self.clock = FrozenClock(START)

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    def at(self) -> float:
        return self.clock().timestamp() - START.timestamp()


def pacer(virtual: Virtual, *, rate: float, chat_interval: float = 1.0, burst: int = 1) -> Pacer:
    return Pacer(
        rate_per_second=rate,
        chat_interval=chat_interval,
        clock=virtual.clock,
        sleep=virtual.sleep,
        burst=burst,
    )


async def start(p: Pacer, chat: str) -> Send:
    await p.wait_turn(chat)
    return p.start(chat)


async def test_sends_are_spaced_by_the_rate() -> None:
    virtual = Virtual()
    p = pacer(virtual, rate=10)
    starts = []
    for number in range(5):
        p.answered(await start(p, f"chat-{number}"))
        starts.append(virtual.at())

    assert starts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_no_second_holds_more_than_rate_arrivals_when_answers_are_slow() -> None:
    # Five sends in flight at 5/s; the first answer comes 0.5 s after its send. Steady pacing alone
    # would start the sixth at 1.0 s, possibly arriving within a second of the first's late
    # arrival; the sixth waits for a second after the first *answer*.
    virtual = Virtual()
    p = pacer(virtual, rate=5)
    sends = [await start(p, f"chat-{number}") for number in range(5)]
    assert virtual.at() == pytest.approx(0.8)
    virtual.clock.advance(seconds=-0.3)  # back to 0.5 s: the answers come now
    for send in sends:
        p.answered(send)

    await start(p, "chat-6")

    assert abs(virtual.at() - 1.5) < 1e-6


async def test_a_send_waits_for_the_answer_to_the_send_rate_sends_before() -> None:
    virtual = Virtual()
    p = pacer(virtual, rate=2)
    first = await start(p, "a")
    await start(p, "b")

    third = asyncio.create_task(start(p, "c"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not third.done(), "the first send is still in flight: its arrival time is unknown"

    p.answered(first)  # at 0.5 s: the second send's turn moved the clock there
    await third
    assert virtual.at() == pytest.approx(1.5), "one second after the first answer"


async def test_a_chat_is_busy_in_flight_and_for_its_interval_after_the_answer() -> None:
    virtual = Virtual()
    p = pacer(virtual, rate=100, chat_interval=1.0)
    send = await start(p, "a")
    assert p.busy_chats() == ["a"]
    assert p.next_chat_ready() is None, "in flight: no time known yet"

    virtual.clock.advance(seconds=0.2)
    p.answered(send)
    assert p.busy_chats() == ["a"]
    assert p.next_chat_ready() == virtual.clock().timestamp() + 1.0

    await start(p, "a")
    assert abs(virtual.at() - 1.2) < 1e-6
    await start(p, "b")
    assert abs(virtual.at() - 1.21) < 1e-6, "another chat only waits for the bot's spacing"


async def test_a_held_chat_waits_for_its_retry_and_a_pause_stops_everyone() -> None:
    virtual = Virtual()
    p = pacer(virtual, rate=100, chat_interval=1.0)
    p.answered(await start(p, "a"))
    p.hold_chat("a", virtual.clock().timestamp() + 5)
    p.pause(2)

    p.answered(await start(p, "b"))
    assert abs(virtual.at() - 2.0) < 1e-6
    await start(p, "a")
    assert abs(virtual.at() - 5.0) < 1e-6
    virtual.clock.advance(seconds=10)
    assert p.busy_chats() == ["a"], "in flight again"


async def test_after_a_gap_a_burst_catches_up_but_the_second_still_holds_at_most_rate() -> None:
    virtual = Virtual()
    p = pacer(virtual, rate=100, burst=5)
    starts = []
    for number in range(300):
        if number == 50:
            virtual.clock.advance(seconds=0.2)  # a claim that took 200 ms
        p.answered(await start(p, f"chat-{number}"))
        starts.append(virtual.at())

    after_gap = starts[50:55]
    assert all(abs(at - after_gap[0]) < 1e-9 for at in after_gap), "five start at once after the gap"
    assert starts[55] > after_gap[0]
    for index in range(len(starts) - 100):
        assert starts[index + 100] - starts[index] >= 1.0 - 1e-9, "no 101 starts within a second"
