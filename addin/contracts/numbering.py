"""Contract numbers: a configurable sequence that never hands out the same number twice.

The Settings table's *Contract number format* (``contract_no_format``) says how numbers look:
``{year}`` (2026), ``{yy}`` (26), ``{month}`` (03), ``{day}``, and ``{seq}`` or ``{seq:04}``
(the running number, zero-padded). The default, ``CT-{year}-{seq:04}``, gives ``CT-2026-0001``;
Chinese companies often use ``HT{year}{month}-{seq:03}`` (HT = 合同). The sequence restarts
whenever the rest of the number changes — every year for ``{year}``, every month with
``{month}``.

The next number is one more than the highest already used: the highest found in the Deals
table, or the highest this workbook ever issued (kept in its ``_xlcrm`` state, so deleting the
deal that held the last number does not reissue it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, MutableMapping

from ..errors import ValueProblem

DEFAULT_FORMAT = "CT-{year}-{seq:04}"
_FIELD = re.compile(r"\{(year|yy|month|day|seq)(?::0?(\d+))?\}")


class ContractNumbers:
    """Issues numbers of one format for one day, remembering them in the workbook state."""

    def __init__(
        self,
        fmt: str,
        today: dt.date,
        used: Iterable[object],
        state: MutableMapping[str, str],
        where: str = "Settings",
    ) -> None:
        fmt = fmt.strip() or DEFAULT_FORMAT
        fields = [m[1] for m in _FIELD.finditer(fmt)]
        if fields.count("seq") != 1 or re.search(r"[{}]", _FIELD.sub("", fmt)):
            raise ValueProblem(
                where,
                f"the contract number format {fmt!r} is not usable",
                "use {year}, {yy}, {month}, {day} and exactly one {seq} (or {seq:04}), "
                "e.g. CT-{year}-{seq:04}",
            )
        self.fmt = fmt
        self.today = today
        self.state = state
        self.prefix_key = "contract_seq|" + self._render(None)
        pattern = re.compile("^" + self._pattern() + "$", re.IGNORECASE)
        highest = 0
        for number in used:
            if isinstance(number, str) and (match := pattern.match(number.strip())):
                highest = max(highest, int(match["seq"]))
        try:
            remembered = int(state.get(self.prefix_key, "0"))
        except ValueError:
            remembered = 0
        self.last = max(highest, remembered)

    def next(self) -> str:
        """A new number, remembered in the state (saved with the deals that use it)."""
        self.last += 1
        self.state[self.prefix_key] = str(self.last)
        return self._render(self.last)

    def _values(self) -> dict[str, str]:
        d = self.today
        return {
            "year": f"{d.year:04d}",
            "yy": f"{d.year % 100:02d}",
            "month": f"{d.month:02d}",
            "day": f"{d.day:02d}",
        }

    def _render(self, seq: int | None) -> str:
        values = self._values()

        def field(match: re.Match[str]) -> str:
            if match[1] != "seq":
                return values[match[1]]
            if seq is None:
                return "{seq}"
            return f"{seq:0{int(match[2] or 1)}d}"

        return _FIELD.sub(field, self.fmt)

    def _pattern(self) -> str:
        values = self._values()
        out, last = [], 0
        for match in _FIELD.finditer(self.fmt):
            out.append(re.escape(self.fmt[last : match.start()]))
            out.append(r"(?P<seq>\d+)" if match[1] == "seq" else re.escape(values[match[1]]))
            last = match.end()
        out.append(re.escape(self.fmt[last:]))
        return "".join(out)
