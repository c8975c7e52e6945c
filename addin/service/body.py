"""Reading a request body within fixed bounds: size on the wire, size inflated, JSON depth.

The limits come from measurement (``bench/bench_service_memory.py``, ``bench/README.md``):
the largest request the add-in legitimately sends — the first Sync mail of a 100,000-customer,
300,000-interaction workbook — is 15 MB of JSON and its handling peaks below the 300 MB the
service may use. The limits leave room above that request, and no more: the densest body they
admit stays under the bound too.

A gzip body is inflated as it arrives, each piece at most up to the limit, so a bomb is cut off
at ``MAX_BODY`` bytes and never materialises; inflating runs in a worker thread, like JSON
decoding, validation and the command itself, so that one big request never stalls the event
loop that answers everybody else.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import re
import zlib
from typing import Any

import anyio
from starlette.requests import Request

from ..errors import ActionableError

# Inflated bytes of JSON. The largest legitimate request is 15.1 MB (bench/README.md, "The
# service's memory": the first Sync mail of 100,000 customers, its interactions filtered by
# row): room for half as much again, as every byte may become memory (one 24 MB string with
# an emoji is 96 MB of text).
MAX_BODY = 24 * 1024 * 1024
# Values (strings, numbers, arrays, objects). Bytes alone do not bound memory: a Python object
# costs 24 to 80 bytes, so 10 MB of '"ab",' are 120 MB of strings. The first Sync mail of
# 100,000 customers has 1,376,885 (bench/README.md): room for 23 % more, while bodies made
# of the costliest values stay well under the bound. Commands that build much from each
# cell have their own, smaller budgets (``Command.max_cells``).
MAX_VALUES = 1_700_000
# Objects ({…}): a dict costs 64 to 200 bytes. The protocol's objects are the request, its
# tables and the inventory's entries (at most 11,000 sheets and Excel Tables); rows are arrays.
MAX_OBJECTS = 50_000
# Arrays and objects inside each other. The protocol needs six levels (request → tables →
# table → columns → column → values); options and results a few more.
MAX_DEPTH = 32
# Bodies above this size are decoded and run one at a time, so that two big requests never
# add up past the service's memory bound; small ones (every button press with nothing new)
# never wait for them.
BIG_BODY = 8 * 1024 * 1024
_big = anyio.CapacityLimiter(1)


# What a user can do about a request over the size limits: the largest are Refresh dashboard
# and Reminders, which grow with every row of the big tables, and Sync mail's record call.
TOO_BIG_HINT = (
    "move old interactions and closed deals to an archive workbook, select fewer rows, or run "
    "the command on the saved file with xlcrm (no such limit); docs/security.md lists the limits"
)


class BodyError(ActionableError):
    """A body the service will not decode: too large, too deep, damaged or not JSON."""

    def __init__(
        self,
        message: str,
        hint: str,
        status: int = 400,
        *,
        code: str | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        super().__init__(None, message, hint)
        self.status = status
        # The errors a user can act on carry a code the task pane words in its language.
        self.code = code
        self.params = params


def too_large() -> BodyError:
    megabytes = str(MAX_BODY // (1024 * 1024))
    return BodyError(
        f"the request is larger than {megabytes} MB",
        TOO_BIG_HINT,
        413,
        code="request.too_large",
        params={"mb": megabytes},
    )


class BodyReader:
    """Reads one request's body within the limits. Use as ``async with BodyReader(...)``: it
    holds the one-big-request-at-a-time slot from the moment the body gets big until the
    request has been answered."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.holding = False

    async def __aenter__(self) -> BodyReader:
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.holding:
            try:
                await anyio.to_thread.run_sync(give_back_memory)
            finally:
                _big.release_on_behalf_of(self)
                self.holding = False

    async def _grew(self, size: int) -> None:
        if size > MAX_BODY:
            raise too_large()
        if size > BIG_BODY and not self.holding:
            await _big.acquire_on_behalf_of(self)
            self.holding = True

    async def read(self) -> bytearray:
        """The body, inflated when it is gzip-compressed; at most ``MAX_BODY`` bytes."""
        declared = self.request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise too_large()
        encoding = self.request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip"):
            raise BodyError(
                f"the request's Content-Encoding {encoding!r} is not supported",
                "send the body as it is or gzip-compressed",
                415,
            )
        inflater = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
        out = bytearray()
        async for chunk in self.request.stream():
            if not chunk:
                continue
            if inflater is None:
                out += chunk
            else:
                await anyio.to_thread.run_sync(_inflate, inflater, chunk, out)
            await self._grew(len(out))
        if inflater is not None:
            out += inflater.flush()  # what zlib still held when the input ran out
            await self._grew(len(out))
        if inflater is not None and not inflater.eof:
            raise BodyError("the request's gzip data is cut short or damaged", "try again")
        return out  # not bytes(out): that would be a second copy


def give_back_memory() -> None:
    """After a big request: hand freed memory back to the system. The C allocator keeps
    what a request freed for the next one, scattered between blocks still in use; measured
    over a run of big requests, the service's resident size grew 25 MB with each without
    this (52, 77, 100, 129 MB), and the next request's peak with it."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (another C library: nothing to do)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _find_malloc_trim()

INFLATE_STEP = 1024 * 1024


def _inflate(inflater: Any, chunk: bytes, out: bytearray) -> None:
    """Inflate one piece onto ``out``, a megabyte at a time (64 KB of a bomb would otherwise
    come out as one 64 MB object), never past one byte over the limit."""
    data = chunk
    try:
        while data:
            room = MAX_BODY - len(out) + 1
            out += inflater.decompress(data, min(INFLATE_STEP, room))
            if len(out) > MAX_BODY:
                raise too_large()
            data = inflater.unconsumed_tail
    except zlib.error:
        raise BodyError("the request's gzip data is damaged", "try again") from None


def decode_json(data: bytes | bytearray) -> Any:
    """The JSON value of ``data``, refusing more than ``MAX_VALUES`` values and nesting deeper
    than ``MAX_DEPTH``. Runs in a worker thread (a 60 MB body takes about a second)."""
    # Each value but the first of an array or object follows a comma, so this is an upper
    # bound on the number of values (commas inside strings count too), counted at memchr
    # speed before a single object is made.
    objects = data.count(b"{")
    values = data.count(b",") + data.count(b"[") + objects
    if values > MAX_VALUES:
        raise BodyError(
            f"the request holds more than {MAX_VALUES:,} values",
            TOO_BIG_HINT,
            413,
        )
    if objects > MAX_OBJECTS:
        raise BodyError(
            f"the request holds more than {MAX_OBJECTS:,} JSON objects",
            "the add-in never sends that: reload the task pane; update the add-in if it persists",
            413,
        )
    try:
        # Characters beyond U+FFFF (emoji) as JSON escapes: one of them would make Python
        # hold the whole text at 4 bytes a character instead of 1 or 2 (160 MB for 40 MB).
        if _ASTRAL_LEAD.search(data):
            escaped = _escaped_astral(data)
            if isinstance(data, bytearray):
                data.clear()  # the caller still refers to it while this runs
            data = escaped
            del escaped
        # Text first, then the bytes are let go before a single object is made: json.loads
        # of bytes would hold both while the objects grow (35 MB less at the peak of the
        # largest legitimate request, bench/README.md).
        text = data.decode(json.detect_encoding(data), "surrogatepass")
        if isinstance(data, bytearray):
            data.clear()
        del data
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise BodyError("the request is not JSON", "reload the task pane") from None
    check_depth(value)
    return value


_ASTRAL_LEAD = re.compile(rb"[\xf0-\xf4]")
_ASTRAL = re.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")


def _escaped_astral(data: bytes | bytearray) -> bytearray:
    """``data`` with :func:`_escape_astral` applied, built in one buffer from views of the
    original (``re.sub`` would copy the text between matches, then join the copies)."""
    out = bytearray()
    view = memoryview(data)
    end = 0
    for match in _ASTRAL.finditer(data):
        out += view[end : match.start()]
        out += _escape_astral(match)
        end = match.end()
    out += view[end:]
    view.release()
    return out


def _escape_astral(match: re.Match[bytes]) -> bytes:
    """One UTF-8 character beyond U+FFFF as the JSON escape of its surrogate pair, which
    decodes to the same character (outside a string it stays invalid JSON, as it was)."""
    code = ord(match.group().decode("utf-8", "surrogatepass")) - 0x10000
    return b"\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _too_deep() -> BodyError:
    return BodyError(
        f"the request nests arrays or objects more than {MAX_DEPTH} levels deep",
        "the add-in never sends that: reload the task pane; update the add-in if it persists",
    )


_CONTAINERS = {list, dict}


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`BodyError` when containers nest deeper than ``limit``. Lists of plain
    values (a column of 100,000 cells) are skipped at C speed by the set of their types."""
    if type(value) not in _CONTAINERS:
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise _too_deep()
        children = item.values() if isinstance(item, dict) else item
        if _CONTAINERS.isdisjoint(set(map(type, children))):
            continue
        stack.extend((c, depth + 1) for c in children if type(c) in _CONTAINERS)
