"""Bombs against a running ``xlcrm serve`` under a memory cap: each gets a clear 413 or 400,
the service stays within its bound (about 300 MB) and answers the add-in afterwards. Then the
densest bodies the limits still admit, each decoded in full: the service stays within the
bound with every one (docs/security.md, "Memory").

The service is ``xlcrm serve --no-tls`` in a subprocess whose address space is capped with
RLIMIT_AS (a regression dies there instead of eating the machine), and its peak resident
memory is the kernel's own high-water mark (``VmHWM`` in ``/proc/PID/status``).
"""

from __future__ import annotations

import os
import resource
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from addin_client import AddinClient, serve_process
from officehost import OfficeHost

from addin.init import create_workbook
from addin.service.body import MAX_BODY, MAX_DEPTH, MAX_OBJECTS, MAX_VALUES

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc"),
]

BOUND = 300 * 1024 * 1024
CAP = 1536 * 1024 * 1024  # address space, not memory: threads and arenas reserve much of it


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    """``(base URL, token, pid)`` of a capped ``xlcrm serve --no-tls``."""
    home = tmp_path_factory.mktemp("limits-home")
    env = {**os.environ, "XLCRM_HOME": str(home), "HOME": str(home), "MALLOC_ARENA_MAX": "2"}
    env.pop("XLCRM_SERVICE_TOKEN", None)
    with serve_process(env=env, wait=30, preexec_fn=_cap) as (base, process):
        yield base, (home / "service-token").read_text().strip(), process.pid
        assert process.poll() is None, "the service died"


def post(base: str, token: str, body: bytes | Iterator[bytes], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/run",
        content=body,
        headers={
            "X-Xlcrm-Client": "tests",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **headers,
        },
        timeout=120,
    )


def still_answers(base: str, token: str, pid: int, tmp_path: Path) -> None:
    """Alive, within the bound, and the add-in's own call works."""
    assert peak(pid) < BOUND, f"peak RSS {peak(pid) / 2**20:.0f} MB"
    host = OfficeHost.from_xlsx(create_workbook(tmp_path / "crm.xlsx", "en"))
    got = AddinClient(base, host, token=token).run("settings", {"step": "get"})
    assert got.result["settings"]


def gzip_bomb(inflated: int) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = b"0," * (512 * 1024)
    parts = [out.compress(b"[")]
    parts += [out.compress(piece) for _ in range(inflated // len(piece))]
    return b"".join([*parts, out.compress(b"0]"), out.flush()])


def test_a_gzip_bomb_is_cut_off_at_the_limit(service: tuple[str, str, int], tmp_path: Path) -> None:
    base, token, pid = service
    bomb = gzip_bomb(1024**3)  # 1 GB of JSON in about 1 MB
    assert len(bomb) < 2 * 1024 * 1024
    answer = post(base, token, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "kind": "input",
        "message": f"the request is larger than {MAX_BODY // 2**20} MB",
        "hint": "move old interactions and closed deals to an archive workbook, select fewer "
        "rows, or run the command on the saved file with xlcrm (no such limit); "
        "docs/security.md lists the limits",
        "code": "request.too_large",  # worded by the task pane in its language
        "params": {"mb": str(MAX_BODY // 2**20)},
    }
    still_answers(base, token, pid, tmp_path)


def test_a_huge_body_is_refused_while_it_streams_in(
    service: tuple[str, str, int], tmp_path: Path
) -> None:
    base, token, pid = service

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'["'
        for _ in range(MAX_BODY // (1024 * 1024) + 2):
            yield b"x" * (1024 * 1024)
        yield b'"]'

    answer = post(base, token, chunks())
    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]["message"]
    still_answers(base, token, pid, tmp_path)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_is_refused(service: tuple[str, str, int], tmp_path: Path, depth: int) -> None:
    base, token, pid = service
    answer = post(base, token, b"[" * depth + b"]" * depth)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        f"the request nests arrays or objects more than {MAX_DEPTH} levels deep"
    )
    still_answers(base, token, pid, tmp_path)


def test_dense_json_is_refused_before_it_becomes_objects(
    service: tuple[str, str, int], tmp_path: Path
) -> None:
    """10 MB of ``{},`` are 3.5 million dicts (250 MB): refused by counting, not by decoding."""
    base, token, pid = service
    body = b"[" + b"{}," * MAX_VALUES + b"{}]"
    assert len(body) < MAX_BODY
    answer = post(base, token, body)
    assert answer.status_code == 413
    assert answer.json()["error"]["message"] == f"the request holds more than {MAX_VALUES:,} values"
    still_answers(base, token, pid, tmp_path)


def test_many_objects_are_refused_before_they_are_made(
    service: tuple[str, str, int], tmp_path: Path
) -> None:
    """A dict with a key costs 184 bytes: objects are counted on their own (the protocol's
    are the request, its tables and the inventory's entries)."""
    base, token, pid = service
    answer = post(base, token, b"[" + b'{"a":0},' * MAX_OBJECTS + b'{"a":0}]')
    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "kind": "input",
        "message": f"the request holds more than {MAX_OBJECTS:,} JSON objects",
        "hint": "the add-in never sends that: reload the task pane; update the add-in if it "
        "persists",
    }
    still_answers(base, token, pid, tmp_path)


# The densest bodies the limits admit, each just under a limit: decoded in full (then refused
# as no request of the protocol), the worst any accepted request can cost before it runs.
WORST = {
    "empty arrays": b"[" + b"[]," * (MAX_VALUES // 2 - 2) + b"[]]",
    "objects with a key": b"[" + b'{"a":0},' * (MAX_OBJECTS - 1) + b'{"a":0}]',
    "two-letter strings": b"[" + b'"ab",' * (MAX_VALUES - 2) + b'"ab"]',
    "two-character Chinese strings": b"["
    + '"中文",'.encode() * min(MAX_VALUES - 2, (MAX_BODY - 16) // 9)
    + '"中文"]'.encode(),
    "one-emoji strings": b"["
    + '"😀",'.encode() * min(MAX_VALUES - 2, (MAX_BODY - 16) // 7)
    + '"😀"]'.encode(),
    "one long string with an emoji": '["😀'.encode() + b"x" * (MAX_BODY - 16) + b'"]',
}


@pytest.mark.parametrize("name", list(WORST))
def test_the_densest_accepted_bodies_stay_within_the_bound(
    service: tuple[str, str, int], tmp_path: Path, name: str
) -> None:
    """Each on its own peak (reset through ``clear_refs``): the service survives every one
    and stays within the bound."""
    base, token, pid = service
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    body = WORST[name]
    assert len(body) <= MAX_BODY
    answer = post(base, token, body)
    assert answer.status_code == 409, answer.text  # decoded, then: not a request
    assert httpx.get(f"{base}/api/v1/health").status_code == 200
    still_answers(base, token, pid, tmp_path)
