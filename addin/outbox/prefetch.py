"""Composing the next messages while the current one waits on the network."""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

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
