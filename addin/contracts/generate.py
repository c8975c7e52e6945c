"""``xlcrm contract``: Word (and PDF) contracts for deals, recorded on the deal and its customer.

For each deal: a contract number (kept if the deal already has one, else the next of the
sequence, :mod:`.numbering`), the template filled from the deal, its customer, its lines and the
seller's details, a file with a safe name in the output folder, and in the workbook — in one
save — the deal's ``contract_no`` and ``contract_file`` and an Interaction of kind ``document``.

Every deal is checked before any file is written: one report lists every empty field of every
deal. If the workbook cannot be saved at the end (open in Excel), the files written by this run
are removed again, so a number is never on a document the workbook does not know about.

:func:`generate_contracts` does the work on any open :class:`~addin.workbook.Book` (the ribbon
service's remote book has no file, so it gets a folder for the files instead); the caller
saves, and removes the files again when that fails (the command line's
:func:`addin.cli.documents.generate_contracts_file`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, UsageError
from ..filenames import safe_file_name, unique_path
from ..schema import Lang, normalize_label
from ..templating import (
    CrmData,
    Problem,
    TemplateProblems,
    find_template,
    render_problems,
)
from ..workbook import Book
from .numbering import ContractNumbers
from .versions import ContractTemplates, names_one_file

DEFAULT_TEMPLATE = "contracts/sales_contract"


@dataclass
class ContractOptions:
    deal_ids: Sequence[str] = ()
    stage: str | None = None  # every deal in this stage without a contract yet
    template: str = DEFAULT_TEMPLATE
    lang: Lang | None = None
    pdf: bool = False
    out_dir: Path | None = None
    today: dt.date | None = None
    now: Callable[[], dt.datetime] = dt.datetime.now


@dataclass
class Generated:
    deal_id: str
    contract_no: str
    files: list[Path]
    template: Path | None = None  # the language version used (the customer's language)


@dataclass
class ContractReport:
    template: Path
    generated: list[Generated] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # --stage: deals that already have one

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": str(self.template),
            "generated": [
                {
                    "deal_id": g.deal_id,
                    "contract_no": g.contract_no,
                    "files": [str(f) for f in g.files],
                }
                for g in self.generated
            ],
            "skipped": list(self.skipped),
        }

    def remove_files(self) -> None:
        """Delete the files this run wrote: for a caller whose save failed, so that a number
        is never on a document the workbook does not know about."""
        for item in self.generated:
            for file in item.files:
                file.unlink(missing_ok=True)

    def lines(self) -> list[str]:
        if not self.generated:
            return ["no contract to generate" + (" (every deal has one)" if self.skipped else "")]
        out = [f"generated {len(self.generated)} contract(s) from {self.template.name}:"]
        for item in self.generated:
            names = ", ".join(str(p) for p in item.files)
            out.append(f"  {item.deal_id}  {item.contract_no}  {names}")
        if self.skipped:
            out.append(f"  {len(self.skipped)} deal(s) in the stage already have a contract")
        return out


def generate_contracts(
    book: Book,
    options: ContractOptions,
    *,
    base_dir: Path,
    templates_near: Sequence[Path] = (),
) -> ContractReport:
    """Generate the contracts ``options`` asks for on an open ``book``, without saving it.

    This is the whole of the work, on any backend: the ribbon service runs it on the book the
    Excel client posted, with a temporary ``base_dir``, and offers the files as downloads.
    Files go to ``options.out_dir`` or ``base_dir / "contracts"``; the deals record their
    paths relative to ``base_dir`` (portable when the folder moves with the workbook).
    ``templates_near`` are folders searched for the template before the shipped ones.

    All or nothing: when anything fails, the files written so far are removed, the workbook
    state this call changed (the contract number sequence) is put back, and the error is
    raised — the caller must then not save ``book``. On success the caller saves it; when
    that save fails, the caller removes the report's files (:meth:`ContractReport.remove_files`).
    """
    _check_options(options)
    before = dict(book.state.items())
    written: list[Path] = []
    try:
        data = CrmData(book, today=options.today or options.now().date())
        lang = options.lang or book.lang
        template_path = find_template(options.template, "contracts", lang, near=templates_near)
        template = ContractTemplates(template_path, lang, fixed=names_one_file(options.template))
        report = ContractReport(template_path)
        deal_ids = _deals(data, options, report)
        numbers = ContractNumbers(
            data.settings.text("contract_no_format"),
            data.today,
            (d.get("contract_no") for d in data.deal_rows.values()),
            book.state,
            data.settings.where("contract_no_format"),
        )
        planned = {
            deal_id: data.deal_rows[deal_id].get("contract_no") or numbers.next()
            for deal_id in deal_ids
        }
        contexts = _check(data, template, planned, lang)
        out_dir = options.out_dir or base_dir / "contracts"
        out_dir.mkdir(parents=True, exist_ok=True)
        for deal_id, context in contexts.items():
            name = contract_file_name(data, deal_id, planned[deal_id])
            docx = write_contract(out_dir, name, template.render(context))
            written.append(docx)
            report.generated.append(
                Generated(deal_id, planned[deal_id], [docx], template.path_for(context))
            )
        if options.pdf and report.generated:
            from .pdf import to_pdf

            pdfs = to_pdf([g.files[0] for g in report.generated], out_dir)
            written.extend(pdfs)
            for item, pdf in zip(report.generated, pdfs):
                item.files.append(pdf)
        _record(book, data, report, base_dir, template_path, options.now())
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        _restore_state(book, before)
        raise
    return report


def _check_options(options: ContractOptions) -> None:
    if not options.deal_ids and not options.stage:
        raise UsageError(None, "say which deals", "give deal ids (D0042) or --stage Won")


def _restore_state(book: Book, before: dict[str, str]) -> None:
    """Put back the state keys this run changed, so a number issued for a contract that was
    never written is issued again next time even if the caller saves by mistake."""
    state = book.state
    for key in [k for k in state if k not in before]:
        del state[key]
    for key, value in before.items():
        state[key] = value


def _deals(data: CrmData, options: ContractOptions, report: ContractReport) -> list[str]:
    if options.deal_ids:
        by_key = {normalize_label(k): k for k in data.deal_rows}
        chosen = []
        for deal_id in options.deal_ids:
            found = by_key.get(normalize_label(deal_id))
            if found is None:
                raise NotFoundError(
                    data.deals.layout.sheet, f"no deal {deal_id}", "deal ids look like D0042"
                )
            chosen.append(found)
        return list(dict.fromkeys(chosen))
    column = data.deals.spec.column("stage")
    choice = column.choice_for(options.stage or "")
    if choice is None:
        names = ", ".join(c.value for c in column.choices)
        raise UsageError("--stage", f"{options.stage!r} is not a stage", f"one of: {names}")
    chosen = []
    for deal_id, row in data.deal_rows.items():
        if row.get("stage") != choice.value:
            continue
        if row.get("contract_no") or row.get("contract_file"):
            report.skipped.append(deal_id)
        else:
            chosen.append(deal_id)
    return chosen


def _check(
    data: CrmData, template: ContractTemplates, planned: dict[str, str], lang: Lang
) -> dict[str, Any]:
    """Every deal's context (in its customer's language), or one error listing every problem
    of every deal — a customer whose language the template lacks among them."""
    contexts, problems = {}, []
    for deal_id, number in planned.items():
        built = data.contract_context(deal_id, number, default_lang=lang)
        found = built.problems + render_problems(template.render, built.where, built.context)
        problems += [Problem(built.where, text) for text in dict.fromkeys(found)]
        contexts[deal_id] = built.context
    if problems:
        raise TemplateProblems(problems, "no contract was generated")
    return contexts


def contract_file_name(data: CrmData, deal_id: str, number: str) -> str:
    """``CT-2026-0042 上海华信科技 年度维保.docx``: number, party and title, safe anywhere."""
    deal = data.deal_rows[deal_id]
    customer = data.customer_rows.get(deal.get("customer_id") or "", {})
    party = customer.get("company") or customer.get("name") or ""
    return safe_file_name(f"{number} {party} {deal.get('title') or ''}".strip(), ".docx")


def write_contract(folder: Path, name: str, content: bytes) -> Path:
    """Write a document under a free name in ``folder`` (`` (2)`` on a clash), all or nothing."""
    target = unique_path(folder, name)
    temporary = target.with_name(f".~{target.name}.tmp")
    with open(temporary, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, target)
    return target


def _record(
    book: Book,
    data: CrmData,
    report: ContractReport,
    base: Path,
    template: Path,
    now: dt.datetime,
) -> None:
    """The deals' contract cells and one document interaction per contract (saved by the
    caller's ``with``)."""
    deals = book.table("deals")
    interactions = book.table("interactions") if book.has_table("interactions") else None
    columns = set(interactions.columns) if interactions is not None else set()
    zh = data.lang == "zh"
    rows = []
    for item in report.generated:
        shown = item.files[-1]  # the PDF when there is one: that is what goes to the customer
        relative = workbook_relative(shown, base)
        deals.update(item.deal_id, {"contract_no": item.contract_no, "contract_file": relative})
        deal = data.deal_rows[item.deal_id]
        used = item.template or template
        row = {
            "customer_id": deal.get("customer_id"),
            "deal_id": item.deal_id,
            "kind": "document",
            "direction": "out",
            "at": now.replace(microsecond=0),
            "subject": f"合同 {item.contract_no}" if zh else f"Contract {item.contract_no}",
            "summary": (f"由模板 {used.name} 生成" if zh else f"Generated from {used.name}"),
            "attachments": "; ".join(p.name for p in item.files),
        }
        rows.append({k: v for k, v in row.items() if k in columns})
    if interactions is not None and rows:
        interactions.insert_all(rows)


def workbook_relative(file: Path, base: Path) -> str:
    """A path the workbook can keep: relative to its folder when inside it (portable)."""
    try:
        return file.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(file.resolve())
