"""The outbox's building blocks that need no server: composing ahead (:class:`Prefetch`, on a
thread, and :class:`ForkedPrefetch`, in a forked process), the handed-over slot
(:class:`HandedSlot`) and the "server keeps failing" rule (:class:`Streak`). The sending
itself is tested against real servers in test_campaign_send.py, test_notify.py and
test_outbox_kills.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from addin.errors import XlcrmError
from addin.outbox import (
    SERVER_DOWN,
    Failed,
    ForkedPrefetch,
    Prefetch,
    Streak,
)
from addin.outbox.handed import HandedSlot

needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "darwin", reason="no safe fork on this platform"
)


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


@needs_fork
def test_a_forked_builder_yields_every_item_in_order_with_its_errors_as_they_were() -> None:
    here = os.getpid()

    def build(n: int) -> tuple[int, int]:
        if n == 3:
            raise XlcrmError("Customers!B5", "no address for 3", "fill it in")
        return n * n, os.getpid()

    with ForkedPrefetch(list(range(40)), build) as built:
        got = list(built)
    assert [item for item, _ in got] == list(range(40))
    error = got[3][1]
    assert isinstance(error, XlcrmError)  # the type the command line reports, not a stand-in
    assert (error.where, error.message, error.hint) == (
        "Customers!B5",
        "no address for 3",
        "fill it in",
    )
    results = [r for _, r in got if not isinstance(r, Exception)]
    assert [square for square, _ in results] == [n * n for n in range(40) if n != 3]
    assert {pid for _, pid in results} - {here}  # composed in another process


@needs_fork
def test_a_forked_builder_keeps_no_descriptor_of_the_sender(tmp_path: Path) -> None:
    """Not the SMTP connection, not the journal's lock: a sender killed mid-campaign must
    free both at once, whatever its builder is doing."""
    here = os.getpid()
    with open(tmp_path / "journal", "w") as kept:

        def build(_: int) -> tuple[int, list[int]]:
            return os.getpid(), sorted(int(fd.name) for fd in Path("/proc/self/fd").iterdir())

        with ForkedPrefetch([0, 1], build) as built:
            listings = [r for _, r in built]
        held = kept.fileno()
    for pid, fds in listings:  # type: ignore[misc]
        assert pid != here
        assert held not in fds
        assert len([fd for fd in fds if fd > 2]) <= 2  # the pipe, and listdir's own


@needs_fork
def test_when_the_forked_builder_dies_the_rest_is_built_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    here = os.getpid()

    def build(n: int) -> int:
        if n == 5 and os.getpid() != here:
            os._exit(3)  # the composing process dies in the middle
        return n

    with caplog.at_level(logging.WARNING), ForkedPrefetch(list(range(12)), build) as built:
        got = list(built)
    assert got == [(n, n) for n in range(12)]  # nothing lost, nothing twice
    assert "composing the rest here" in caplog.text


@needs_fork
def test_prefetch_forks_only_when_asked_and_safe() -> None:
    """In a process of its own: a test runner's worker has threads of its own."""
    script = """
import threading
from addin.outbox import prefetch, fork_is_safe
kinds = []
for process in (True, False):
    with prefetch([1, 2, 3], str, 8, process=process) as built:
        kinds.append(type(built).__name__)
        assert [r for _, r in built] == ["1", "2", "3"]
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
kinds.append(str(fork_is_safe()))
with prefetch([1, 2, 3], str, 8, process=True) as built:
    kinds.append(type(built).__name__)
    list(built)
stop.set()
other.join()
print(" ".join(kinds))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # Asked and safe; not asked; another thread running (it could hold a lock the child
    # would inherit held for ever): not safe, so a thread.
    assert done.stdout.split() == ["ForkedPrefetch", "Prefetch", "False", "Prefetch"]


def test_the_handed_slot_names_the_last_message_put_and_survives_closing(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx.sends-journal.handed"
    assert HandedSlot.read(path) == ""  # no file: nothing handed over
    with HandedSlot(path) as slot:
        assert HandedSlot.read(path) == ""
        slot.put(HandedSlot.encode("first"))
        slot.put(HandedSlot.encode("客户-0002"))
        assert HandedSlot.read(path) == "客户-0002"  # the file itself, as another run reads it
    assert HandedSlot.read(path) == "客户-0002"
    with HandedSlot(path) as again:  # reopening keeps what is there
        assert HandedSlot.read(path) == "客户-0002"
        again.clear()
    assert HandedSlot.read(path) == ""


def test_a_torn_record_reads_as_nothing_handed_over(tmp_path: Path) -> None:
    """A kill in the middle of the copy leaves part of the new record over the old one: its
    checksum fails, and the message it was for had not had its dot written either."""
    path = tmp_path / "slot"
    with HandedSlot(path) as slot:
        slot.put(HandedSlot.encode("C0001"))
        new = HandedSlot.encode("C0002")
        for cut in range(1, len(new)):
            slot.put(HandedSlot.encode("C0001"))
            slot.put(new[:cut])
            assert HandedSlot.read(path) in ("", "C0001"), cut
            if cut >= 8:  # the new header is in: only the whole record may name a message
                assert HandedSlot.read(path) == "", cut


def test_a_name_too_long_for_the_slot_is_refused_before_the_moment() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        HandedSlot.encode("x" * HandedSlot.SIZE)
