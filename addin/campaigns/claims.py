"""The claims ledger: which ribbon batches were sent, by which process, and how far each got.

The ribbon's workbook says which rows a batch claimed (``sending``) but learns what became of
them only when the client applies the send call's answer — perhaps never. The ledger is what
the service itself knows, shared by every worker of one ``xlcrm serve`` (:class:`FileClaimLedger`,
files under its state folder) or kept by one process (:class:`ClaimLedger`):

- **spending** a claim token (:meth:`~FileClaimLedger.spend`) is allowed once, ever, and
  records the sending process (:class:`~addin.outbox.Owner`: boot, pid, start time), so that a
  replayed send call sends nothing and a claim step can tell a sender still at work from one
  that died;
- **marks** (:meth:`~FileClaimLedger.mark`): per message ``sent`` / ``failed`` / ``queued`` with the
  server's answer, and ``done`` when the batch ended; the message being handed over now is named in
  the batch's slot (:meth:`~FileClaimLedger.handed_slot`, one copy into mapped memory just before
  the final dot: :mod:`addin.outbox.handed`) and read back as ``handed``. The next claim step
  settles a lost batch from them: what the ledger saw sent is sent (over SMTP too), a message never
  handed over by a process that died in this boot goes again, and only a message handed over and
  unconfirmed is asked of the sent items (uncertain over SMTP);
- **revoking**: a claim step that finds a claim never spent spends it itself, so a send call
  arriving later for it sends nothing, and its rows are simply queued again.

Each ledger has an identity (:attr:`~FileClaimLedger.ident`) that a claim records: a workbook
claimed through another service (another machine's ledger) is settled the old, careful way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..outbox import Owner
from ..outbox.handed import HandedSlot

REVOKED = Owner("", 0, "revoked")  # a claim spent by the claim step that replaced it


@dataclass
class Marks:
    """What the ledger knows of one spent claim."""

    owner: Owner | None  # None: spent before owners were recorded
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer id → last mark
    done: bool = False

    @property
    def revoked(self) -> bool:
        return self.owner == REVOKED


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ClaimLedger:
    """Claim tokens this process has begun to send, so that a send call that arrives twice
    (before the client applied the first answer, so the workbook still holds the claim) sends
    once. Bounded: the oldest tokens are forgotten first. One process only: a service with
    several workers uses :class:`FileClaimLedger`.

    It keeps no marks and has no identity (``ident`` is empty): what it knows dies with the
    process, so a claim is never settled from it — a lost batch is settled from the sent
    items alone, uncertain over SMTP."""

    ident = ""

    def __init__(self, size: int = 10_000) -> None:
        self._spent: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def spend(self, token: str, campaign: str = "", owner: Owner | None = None) -> bool:
        """True the first time ``token`` is spent, False ever after."""
        with self._lock:
            if token in self._spent:
                return False
            self._spent[token] = None
            while len(self._spent) > self._size:
                self._spent.popitem(last=False)
            return True

    def marks(self, token: str, campaign: str = "") -> Marks | None:
        return None

    def mark(self, token: str, campaign: str, customer_id: str, step: dict[str, Any]) -> None:
        """Nothing is kept (see the class)."""

    def handed_slot(self, token: str, campaign: str = "") -> HandedSlot | None:
        """None: nothing is kept (see the class)."""
        return None

    def finish(self, token: str, campaign: str = "") -> None:
        """Nothing is kept (see the class)."""


class FileClaimLedger:
    """Claim tokens spent by any process that shares ``folder``: the workers of one
    ``xlcrm serve``, which may each receive the same send call.

    One small append-only file per campaign (named by a hash of the campaign, so no request
    text becomes a file name) holds the SHA-256 of each spent token, one per line, with the
    process that spent it. Spending takes an exclusive lock on the file (``fcntl.flock``;
    ``msvcrt.locking`` on Windows), reads it, and appends and fsyncs the token before the lock
    is released — so of two workers spending the same token at the same moment exactly one
    gets True, and a token spent before a crash stays spent. A line is about 200 bytes per
    batch of up to 25 messages. Each spent claim's marks go to a file of their own
    (``claims-<campaign>.d/<token>.log``, one JSON line per step, written by its one sender).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._ident = ""

    @property
    def ident(self) -> str:
        """This ledger's identity, made once (``ledger-id`` in the folder)."""
        if not self._ident:
            self._ident = self._read_ident()
        return self._ident

    def _read_ident(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "ledger-id"
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_hex(16).encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
        for _ in range(100):  # another worker may be writing it this instant
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
        return path.read_text(encoding="ascii").strip()

    def path(self, campaign: str) -> Path:
        digest = hashlib.sha256(campaign.strip().casefold().encode("utf-8")).hexdigest()
        return self.folder / f"claims-{digest[:32]}.log"

    def _marks_path(self, token: str, campaign: str) -> Path:
        home = self.path(campaign)
        return home.with_name(home.stem + ".d") / f"{_digest(token)[:32]}.log"

    def spend(self, token: str, campaign: str = "", owner: Owner | None = None) -> bool:
        """True the first time ``token`` is spent by any process, False ever after."""
        digest = _digest(token)
        line = digest + (" " + json.dumps(asdict(owner)) if owner else "") + "\n"
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path(campaign), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            with _locked(fd):
                if self._find(fd, digest) is not None:
                    return False
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
                return True
        finally:
            os.close(fd)

    def _find(self, fd: int, digest: str) -> str | None:
        """The spend line of ``digest`` in the open ledger file (the rest of it: the owner)."""
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        wanted = digest.encode("ascii")
        for line in b"".join(chunks).splitlines():
            if line[:64] == wanted:
                return line[65:].decode("utf-8", "replace")
        return None

    def marks(self, token: str, campaign: str = "") -> Marks | None:
        """What is known of ``token``: None when it was never spent."""
        try:
            fd = os.open(self.path(campaign), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            rest = self._find(fd, _digest(token))
        finally:
            os.close(fd)
        if rest is None:
            return None
        owner = None
        with contextlib.suppress(ValueError, TypeError):
            owner = Owner(**json.loads(rest)) if rest.strip() else None
        found = Marks(owner)
        with contextlib.suppress(FileNotFoundError):
            for raw in self._marks_path(token, campaign).read_bytes().splitlines():
                try:
                    step = json.loads(raw)
                except ValueError:
                    continue  # the line being written when the process died
                if step.get("done"):
                    found.done = True
                elif isinstance(step.get("customer_id"), str):
                    customer_id = step["customer_id"]
                    if step.get("status") == "handed" and customer_id in found.steps:
                        continue  # "handed" never hides an outcome, whatever the order
                    found.steps[customer_id] = step
        handed = HandedSlot.read(self._slot_path(token, campaign))
        if handed and handed not in found.steps:  # its outcome (a line) would follow the slot
            found.steps[handed] = {"customer_id": handed, "status": "handed"}
        return found

    def mark(self, token: str, campaign: str, customer_id: str, step: dict[str, Any]) -> None:
        """Append one step of one message: handed to the operating system, which keeps it
        through a kill; not fsync'd."""
        self._append(token, campaign, {"customer_id": customer_id, **step}, sync=False)

    def handed_slot(self, token: str, campaign: str = "") -> HandedSlot:
        """The slot naming the message of ``token``'s batch being handed over now, for its
        one sender; folded into the marks when the batch finishes (:meth:`finish`)."""
        path = self._slot_path(token, campaign)
        path.parent.mkdir(parents=True, exist_ok=True)
        return HandedSlot(path)

    def _slot_path(self, token: str, campaign: str) -> Path:
        return self._marks_path(token, campaign).with_suffix(".handed")

    def finish(self, token: str, campaign: str = "") -> None:
        """The batch ended: every step before this line is on disk. The slot (closed by its
        sender by now) goes; what it names — a message handed over whose outcome the sender
        never learnt (it stopped on an error) — becomes a ``handed`` line first."""
        slot = self._slot_path(token, campaign)
        handed = HandedSlot.read(slot)
        if handed:
            self.mark(token, campaign, handed, {"status": "handed"})
        self._append(token, campaign, {"done": True}, sync=True)
        with contextlib.suppress(OSError):
            slot.unlink()

    def _append(self, token: str, campaign: str, data: dict[str, Any], *, sync: bool) -> None:
        path = self._marks_path(token, campaign)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    """An exclusive lock on the open file ``fd`` for the block, waiting for other processes."""
    if os.name == "nt":  # pragma: no cover - Windows: lock byte 0 (waits ~10 s, then raises)
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
