"""Composing the next messages while the current one waits on the network.

Two ways, one behaviour (every item, in order, a build error handed over as the result):

- :class:`Prefetch`, a thread: works everywhere, but the builder and the sender share one GIL,
  so every reply the sender waits for is also a wait for the builder to let go of it;
- :class:`ForkedPrefetch`, a forked child process: the builder runs on the other core and
  the sender never waits for it. Only where ``fork`` is safe: a POSIX system other than
  macOS, and a process with no other thread (a thread holding a lock at the fork would leave
  it locked in the child for ever). :func:`prefetch` picks it when it can.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


class Prefetch(Generic[T, R]):
    """``build(item)`` for each item, done up to ``ahead`` items in advance on one thread.

    Iterating yields ``(item, result)`` in order; ``result`` is the exception when ``build``
    raised (the caller decides: one bad message must not stop a campaign). Rendering a rich
    template costs milliseconds of CPU a message, which then overlaps the network round trips
    of the message before it. Leaving the loop early (``close``) stops the thread after at
    most ``ahead`` wasted builds; nothing is sent by it, so nothing needs undoing.
    """

    # While the builder holds the GIL, the sender whose reply has arrived waits up to the
    # interpreter's switch interval (5 ms by default) to get it back: per message that is more
    # than a loopback round trip. A shorter interval while prefetching hands it back sooner.
    switch_interval = 0.0001

    def __init__(self, items: Iterable[T], build: Callable[[T], R], ahead: int = 8) -> None:
        self._saved_interval = sys.getswitchinterval()
        self._inline = ahead < 1  # no thread: build each item when it is asked for
        self._items = iter(items)
        self._build = build
        if self._inline:
            return
        sys.setswitchinterval(min(self._saved_interval, self.switch_interval))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for item in self._items:
            if self._stop.is_set():
                return
            try:
                result: Any = self._build(item)
            except Exception as error:  # handed to the consumer, which reports it
                result = error
            while not self._stop.is_set():
                try:
                    self._queue.put((item, result), timeout=0.1)
                    break
                except queue.Full:
                    continue
        self._queue.put(_DONE)

    def __iter__(self) -> Iterator[tuple[T, R | Exception]]:
        if self._inline:
            for item in self._items:
                try:
                    result: R | Exception = self._build(item)
                except Exception as error:
                    result = error
                yield item, result
            return
        while True:
            got = self._queue.get()
            if got is _DONE:
                return
            yield got

    def close(self) -> None:
        if self._inline:
            return
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()
        sys.setswitchinterval(self._saved_interval)

    def __enter__(self) -> Prefetch[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fork_is_safe() -> bool:
    """Whether this process can fork a builder: POSIX with ``fork`` (not macOS, where system
    libraries may not survive it) and no thread but this one."""
    return (
        hasattr(os, "fork")
        and sys.platform != "darwin"
        and threading.active_count() == 1
        and threading.current_thread() is threading.main_thread()
    )


class ForkedPrefetch(Generic[T, R]):
    """``build(item)`` for each of ``items`` in a forked child process, results in order.

    The child is a copy of this process at the fork: it has the templates, the recipients'
    data and ``build`` itself, so nothing needs pickling on the way in; each result comes back
    pickled through a pipe, whose capacity (64 KiB on Linux) bounds how far ahead it runs. The
    child keeps no descriptor of this process but the pipe (not the SMTP connection, not the
    journal's lock), talks to no server and writes no file: killing either process leaves
    nothing behind that the other must undo.

    If the child dies or sends something unreadable, the rest is built here, on this thread,
    as :class:`Prefetch` with ``ahead=0`` would: slower, never a message lost.
    """

    _DONE = b"done"

    def __init__(self, items: Sequence[T], build: Callable[[T], R]) -> None:
        self._items = items
        self._build = build
        self._next = 0  # the index of the next result the consumer gets
        read, write = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # pragma: no cover - the child (coverage does not follow it)
            os.close(read)
            self._child(write)
        os.close(write)
        self._pipe: BinaryIO | None = os.fdopen(read, "rb")

    def _child(self, write: int) -> None:  # pragma: no cover - runs in the child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            keep = sorted({0, 1, 2, write})
            for low, high in zip(keep, [*keep[1:], 1 << 20]):
                os.closerange(low + 1, high)
            with os.fdopen(write, "wb") as out:
                for index, item in enumerate(self._items):
                    try:
                        result: Any = self._build(item)
                    except Exception as error:
                        result = error
                    try:
                        blob = pickle.dumps((index, result), pickle.HIGHEST_PROTOCOL)
                    except Exception:  # an error that cannot travel: its text does
                        blob = pickle.dumps((index, RuntimeError(str(result))))
                    out.write(blob)
                    out.flush()
                out.write(pickle.dumps(self._DONE))
            status = 0
        except BaseException:
            pass
        finally:
            os._exit(status)  # no atexit, no buffers of the parent flushed twice

    def __iter__(self) -> Iterator[tuple[T, R | Exception]]:
        while self._next < len(self._items):
            got = self._receive()
            if got is None:  # the child is gone: build the rest here
                break
            index, result = got
            self._next = index + 1
            yield self._items[index], result
        while self._next < len(self._items):
            item = self._items[self._next]
            self._next += 1
            try:
                built: R | Exception = self._build(item)
            except Exception as error:
                built = error
            yield item, built

    def _receive(self) -> tuple[int, Any] | None:
        if self._pipe is None:
            return None
        try:
            got = pickle.load(self._pipe)
        except Exception as error:  # EOF (the child died) or a torn result
            got = error
        if isinstance(got, tuple) and len(got) == 2 and got[0] == self._next:
            return got
        if got != self._DONE:
            log.warning(
                "the process composing messages ahead stopped (%s); composing the rest here",
                got if isinstance(got, Exception) else "an unexpected result",
            )
        self._stop()
        return None

    def _stop(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> ForkedPrefetch[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prefetch(
    items: Sequence[T], build: Callable[[T], R], ahead: int, *, process: bool = False
) -> Prefetch[T, R] | ForkedPrefetch[T, R]:
    """The builder for a send loop: a forked process when ``process`` is asked for and
    :func:`fork_is_safe`, else a thread (``ahead`` items ahead; none when ``ahead`` < 1)."""
    if process and ahead >= 1 and len(items) > 1 and fork_is_safe():
        log.debug("composing %d messages ahead in a forked process", len(items))
        return ForkedPrefetch(items, build)
    log.debug("composing %d messages ahead on a thread (%d at most)", len(items), ahead)
    return Prefetch(items, build, ahead)
