"""How fast and when a campaign may send: per-minute and per-day limits, sending hours.

Mail servers throttle senders, and a blocked mailbox is worse than a slow campaign: Exchange
Online accepts 30 messages a minute per mailbox (and 10,000 recipients a day), Tencent Exmail
and Alibaba Mail have similar caps. The per-minute limit is a sliding window: the sender sleeps
just long enough. The per-day and sending-hours limits *stop* the run instead — the Sends
table remembers where it stopped and the next (scheduled) run continues.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import UsageError

EXCHANGE_ONLINE_PER_MINUTE = 30
_HOURS = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–~～至到]\s*(\d{1,2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class SendingHours:
    """A daily window such as 09:00–18:00 (local time); may wrap past midnight."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str, where: str = "--hours") -> SendingHours:
        match = _HOURS.match(text)
        if not match:
            raise UsageError(where, f"{text!r} is not a time range", "write it like 09:00-18:00")
        try:
            start = dt.time(int(match[1]) % 24, int(match[2] or 0))
            end = dt.time(int(match[3]) % 24, int(match[4] or 0))
        except ValueError:
            raise UsageError(where, f"{text!r} is not a time range", "write 09:00-18:00") from None
        return cls(start, end)

    def allows(self, moment: dt.datetime) -> bool:
        now = moment.time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_start(self, moment: dt.datetime) -> dt.datetime:
        """The next moment at or after ``moment`` when sending is allowed."""
        if self.allows(moment):
            return moment
        start = dt.datetime.combine(moment.date(), self.start, moment.tzinfo)
        return start if start > moment else start + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass
class Limits:
    """The limits of one run, with the bookkeeping to apply them."""

    per_minute: int | None = None
    per_day: int | None = None
    hours: SendingHours | None = None
    sent_today: int = 0  # before this run, across campaigns (from the Sends table)
    _recent: deque[float] = field(default_factory=deque, repr=False)

    def stop_reason(self, now: dt.datetime) -> str | None:
        """Why no more may be sent now (the run ends), or None."""
        if self.hours is not None and not self.hours.allows(now):
            return f"outside the sending hours ({self.hours}); run again then to continue"
        if self.per_day is not None and self.sent_today >= self.per_day:
            return f"the daily limit of {self.per_day} messages is reached; run again tomorrow"
        return None

    def resume_at(self, now: dt.datetime) -> dt.datetime | None:
        """When :meth:`stop_reason` will let sending go on again (None: it does now)."""
        if self.stop_reason(now) is None:
            return None
        moment = now
        if self.per_day is not None and self.sent_today >= self.per_day:
            moment = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
        return self.hours.next_start(moment) if self.hours is not None else moment

    def remember(self, ages: list[float], monotonic: Callable[[], float]) -> None:
        """Count messages sent ``ages`` seconds ago (by an earlier run or batch) in the
        per-minute window, so that back-to-back batches keep to it too."""
        now = monotonic()
        for age in sorted(ages, reverse=True):
            if age < 60.0:
                self._recent.append(now - age)

    def wait(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        """Sleep until one more message fits in the per-minute window."""
        if not self.per_minute:
            return
        while len(self._recent) >= self.per_minute:
            delay = self._recent[0] + 60.0 - monotonic()
            if delay <= 0:
                self._recent.popleft()
            else:
                sleep(delay)

    def record(self, monotonic: Callable[[], float]) -> None:
        self._recent.append(monotonic())
        self.sent_today += 1
