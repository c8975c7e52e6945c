"""Word documents to PDF through LibreOffice, in one headless run per batch, never garbled.

Starting LibreOffice takes seconds and converting a contract a fraction of one, so a batch is
one ``soffice --headless --convert-to pdf`` process with every file on its command line. It
runs with a private profile (``-env:UserInstallation``) in a temporary folder: a LibreOffice the
user has open does not capture the conversion (a second instance on the same profile hands its
work to the first and exits), and it works in CI as root or without a home folder.

A PDF of a Chinese contract made where no Chinese font is installed shows empty boxes, and
nothing in LibreOffice's exit status says so. Before converting a document with Chinese text we
ask fontconfig (``fc-list :lang=zh``) for a Chinese font and stop with the package to install;
after converting, the PDF's first page must contain the Chinese text of the document's first
Chinese paragraph (its title, in our templates). Converted files are written to a temporary
folder beside ``out_dir`` and moved in only when all of them passed, so a failed batch leaves
no PDF behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from lxml import etree
from pypdf import PdfReader

from ..errors import XlcrmError

SOFFICE_PLACES = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/snap/bin/libreoffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)
INSTALL_HINT = (
    "install LibreOffice: on Debian/Ubuntu 'apt-get install libreoffice-writer-nogui', on "
    "Windows and macOS from https://www.libreoffice.org/download/ (or set XLCRM_SOFFICE to the "
    "path of soffice)"
)
FONT_HINT = (
    "install a Chinese font: on Debian/Ubuntu 'apt-get install fonts-noto-cjk', elsewhere any "
    "Chinese font such as Noto Sans CJK SC; nothing was converted"
)
# Font files whose names say they cover Chinese, for systems without the fc-list program.
_CJK_FONT_FILE = re.compile(
    r"cjk|wqy|wenquanyi|droidsansfallback|simsun|simhei|msyh|ukai|uming|sourcehan|"
    r"notosanssc|notoserifsc|fandol|arphic",
    re.IGNORECASE,
)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_PARTS = re.compile(r"word/(document|header\d*|footer\d*)\.xml")
_MAX_COMMAND = 24_000  # characters: Windows allows 32,767 for a whole command line
SAMPLE = 20  # Chinese characters of the document looked for in the PDF


def find_soffice() -> str | None:
    """LibreOffice's soffice: ``XLCRM_SOFFICE``, then PATH, then the usual install folders."""
    chosen = os.environ.get("XLCRM_SOFFICE", "").strip()
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    places = [*SOFFICE_PLACES, *map(str, Path("/opt").glob("libreoffice*/program/soffice"))]
    return next((p for p in places if Path(p).is_file()), None)


def to_pdf(
    docx_files: Sequence[Path],
    out_dir: Path,
    *,
    soffice: str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Convert ``docx_files`` to ``out_dir/<stem>.pdf`` (replacing files of that name) and
    return the PDFs' paths, in order.

    ``env`` adds to the environment of fc-list and soffice (tests point ``FONTCONFIG_FILE`` at
    a configuration without fonts). ``timeout`` defaults to two minutes plus five seconds a
    document.
    """
    files = [Path(f) for f in docx_files]
    if not files:
        return []
    _check_names(files)
    program = soffice or find_soffice()
    if program is None:
        raise XlcrmError(
            None, "LibreOffice (soffice) was not found: it makes the PDFs", INSTALL_HINT
        )
    samples = {f: _chinese_sample(f) for f in files}
    with_chinese = [f for f, sample in samples.items() if sample]
    if with_chinese:
        check_cjk_font(env, where=str(with_chinese[0]))
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".xlcrm-pdf-", dir=out_dir))
    profile = Path(tempfile.mkdtemp(prefix="xlcrm-lo-"))
    try:
        limit = timeout if timeout is not None else 120 + 5 * len(files)
        for batch in _batches(files):
            output = _run_soffice(program, batch, staging, profile, limit, env)
            for file in batch:
                _verify(file, staging / f"{file.stem}.pdf", samples[file], output)
        targets = []
        for file in files:
            target = out_dir / f"{file.stem}.pdf"
            os.replace(staging / f"{file.stem}.pdf", target)
            targets.append(target)
        return targets
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def check_cjk_font(env: Mapping[str, str] | None = None, *, where: str | None = None) -> None:
    """Raise unless a font that covers Chinese is installed (always passes on Windows, which
    ships them; on macOS without fontconfig the system fonts are trusted too)."""
    if sys.platform == "win32":
        return
    families = _fontconfig_chinese(env)
    if families or (families is None and (sys.platform == "darwin" or _cjk_font_files())):
        return
    raise XlcrmError(
        where, "no Chinese font is installed, the PDF would show empty boxes", FONT_HINT
    )


def _fontconfig_chinese(env: Mapping[str, str] | None) -> str | None:
    """The font families fontconfig has for Chinese ("" for none), None without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        done = subprocess.run(
            [fc_list, ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip()


# -- what the documents say


def docx_paragraphs(path: Path) -> Iterator[str]:
    """The text of each paragraph of a .docx: body, then headers and footers."""
    with zipfile.ZipFile(path) as package:
        names = sorted(
            (n for n in package.namelist() if _TEXT_PARTS.fullmatch(n)),
            key=lambda n: not n.endswith("document.xml"),
        )
        for name in names:
            root = etree.fromstring(package.read(name))
            for paragraph in root.iter(f"{_W}p"):
                yield "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))


def _chinese_sample(path: Path) -> str:
    """The Chinese characters of the document's first paragraph that has any ("" if none):
    what its PDF's first page must show."""
    try:
        for text in docx_paragraphs(path):
            found = _HAN.findall(text)
            if found:
                return "".join(dict.fromkeys(found))[:SAMPLE]
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        raise XlcrmError(str(path), f"not a readable Word .docx file ({error})") from None
    return ""


def _cjk_font_files() -> bool:
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir() and any(_CJK_FONT_FILE.search(p.name) for p in root.rglob("*")):
            return True
    return False


# -- running LibreOffice


def _check_names(files: Sequence[Path]) -> None:
    seen: dict[str, Path] = {}
    for file in files:
        other = seen.setdefault(file.stem.casefold(), file)
        if other != file:
            raise XlcrmError(
                str(file),
                f"has the same name as {other}: both would become {file.stem}.pdf",
                "convert them in separate runs, or rename one",
            )


def _batches(files: Sequence[Path]) -> Iterator[list[Path]]:
    """Every file in one run, unless the command line would be too long for Windows."""
    batch: list[Path] = []
    length = 0
    for file in files:
        size = len(str(file)) + 3
        if batch and length + size > _MAX_COMMAND:
            yield batch
            batch, length = [], 0
        batch.append(file)
        length += size
    if batch:
        yield batch


def _run_soffice(
    program: str,
    files: Sequence[Path],
    out_dir: Path,
    profile: Path,
    timeout: float,
    env: Mapping[str, str] | None,
) -> str:
    """Run one conversion; returns what soffice printed."""
    command = [
        program,
        "--headless",
        "--norestore",
        "--nolockcheck",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        *map(str, files),
    ]
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=sys.platform != "win32",
        )
    except OSError as error:
        raise XlcrmError(program, f"cannot start LibreOffice ({error})", INSTALL_HINT) from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise XlcrmError(
            None,
            f"LibreOffice did not finish converting {len(files)} document(s) in {timeout:.0f} s",
            "try again with fewer documents; if it keeps happening, run soffice by hand to see "
            "whether it shows a dialog",
        ) from None
    text = output.decode("utf-8", "replace").strip()
    if process.returncode != 0:
        raise XlcrmError(
            program,
            f"LibreOffice failed (exit status {process.returncode}) converting "
            f"{len(files)} document(s):\n{_tail(text)}",
        )
    return text


def _kill(process: subprocess.Popen[bytes]) -> None:
    """End soffice and the soffice.bin it started."""
    if sys.platform == "win32":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _verify(docx: Path, pdf: Path, sample: str, output: str) -> None:
    """The PDF exists and, for a Chinese document, shows its Chinese text."""
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise XlcrmError(
            str(docx),
            f"LibreOffice did not convert it to PDF; it said:\n{_tail(output) or '(nothing)'}",
            "check that LibreOffice Writer is installed (Debian/Ubuntu: 'apt-get install "
            "libreoffice-writer-nogui') and that the file opens in Word",
        )
    if not sample:
        return
    try:
        shown = PdfReader(pdf).pages[0].extract_text() or ""
    except Exception as error:  # pypdf raises many kinds for a damaged file
        raise XlcrmError(str(docx), f"LibreOffice wrote an unreadable PDF ({error})") from None
    missing = [c for c in sample if c not in shown]
    if missing:
        raise XlcrmError(
            str(docx),
            "the PDF does not show the document's Chinese text (missing "
            f"{''.join(missing)!r}): its font has no Chinese characters, they would be boxes",
            FONT_HINT,
        )


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:])
