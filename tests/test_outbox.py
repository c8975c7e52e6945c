"""The outbox's building blocks that need no server: composing ahead (:class:`Prefetch`) and
the "server keeps failing" rule (:class:`Streak`). The sending itself is tested against real
servers in test_campaign_send.py, test_notify.py and test_outbox_kills.py."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from addin.outbox import SERVER_DOWN, Failed, Prefetch, Streak


@pytest.mark.parametrize("ahead", [0, 1, 8])
def test_prefetch_yields_every_item_in_order_and_hands_over_errors(ahead: int) -> None:
    def build(n: int) -> int:
        if n == 3:
            raise ValueError("no template for 3")
        return n * n

    with Prefetch(range(6), build, ahead) as built:
        got = list(built)
    assert [item for item, _ in got] == [0, 1, 2, 3, 4, 5]
    assert [r for _, r in got if not isinstance(r, Exception)] == [0, 1, 4, 16, 25]
    assert str(got[3][1]) == "no template for 3"


def test_prefetch_builds_on_another_thread_a_bounded_number_ahead() -> None:
    threads: set[str] = set()
    started: list[int] = []

    def build(n: int) -> int:
        threads.add(threading.current_thread().name)
        started.append(n)
        return n

    with Prefetch(range(1000), build, 4) as built:
        for item, _ in built:
            if item == 0:
                time.sleep(0.2)  # the sender waits on the network…
                assert len(started) <= 1 + 4 + 1  # …and at most `ahead` more were built
                break
    assert threads == {"outbox-prefetch"}
    assert len(started) < 1000  # leaving early stopped the builder


def test_prefetch_restores_the_switch_interval() -> None:
    before = sys.getswitchinterval()
    with Prefetch(range(3), str, 2) as built:
        assert sys.getswitchinterval() <= Prefetch.switch_interval
        list(built)
    assert sys.getswitchinterval() == before


def test_the_server_keeps_failing_after_three_temporary_failures_in_a_row() -> None:
    streak = Streak()
    busy = Failed("452 4.3.1 Insufficient system storage", temporary=True)
    refused = Failed("550 5.1.1 unknown user", temporary=False)
    assert [streak.outcome(busy), streak.outcome(busy)] == [False, False]
    assert streak.outcome(None) is False  # one that went resets the count
    assert streak.outcome(refused) is False  # so does a permanent refusal
    assert [streak.outcome(busy) for _ in range(SERVER_DOWN)] == [False, False, True]
