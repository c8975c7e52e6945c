"""Document commands: contracts and quotations from Word templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import BOOK, echo_json, handle_errors

if TYPE_CHECKING:
    from ..contracts.generate import ContractOptions, ContractReport


@click.command("contract")
@click.argument("book", type=BOOK)
@click.argument("deal_ids", nargs=-1, metavar="[DEAL_ID]...")
@click.option(
    "--stage",
    metavar="STAGE",
    help="Every deal in this stage (e.g. Won / 赢单) that has no contract yet.",
)
@click.option(
    "--template",
    default="contracts/sales_contract",
    show_default=True,
    metavar="T",
    help="contracts/sales_contract, contracts/quotation, or the path of your own .docx.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    help="Template language for customers without a Language (default: the workbook's).",
)
@click.option("--pdf", is_flag=True, help="Also write a PDF of each contract (needs LibreOffice).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: contracts/ beside the workbook).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the contracts written as JSON.")
@handle_errors
def contract(
    book: Path,
    deal_ids: tuple[str, ...],
    stage: str | None,
    template: str,
    lang: str | None,
    pdf: bool,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Generate Word (and PDF) contracts for deals of BOOK from a Jinja template.

    Every deal is checked first; one report lists every empty field. Each deal gets the next
    contract number (Settings: Contract number format) unless it has one, a file with a safe
    name, its Contract no. and Contract file cells filled, and a document interaction.
    """
    from ..contracts.generate import ContractOptions

    options = ContractOptions(
        deal_ids=deal_ids,
        stage=stage,
        template=template,
        lang=lang,  # type: ignore[arg-type]
        pdf=pdf,
        out_dir=out_dir,
    )
    report = generate_contracts_file(book, options)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))


def generate_contracts_file(book_path: str | Path, options: ContractOptions) -> ContractReport:
    """Generate contracts in the workbook file at ``book_path``, the files in ``contracts/``
    beside it, and save. When the save fails (the workbook is open in Excel), the files are
    removed again."""
    from ..contracts.generate import generate_contracts
    from ..workbook import open_book

    path = Path(book_path)
    report: ContractReport | None = None
    try:
        with open_book(path) as book:
            report = generate_contracts(
                book,
                options,
                base_dir=path.parent,
                templates_near=(path.parent, path.parent / "templates"),
            )
    except BaseException:
        if report is not None:
            report.remove_files()
        raise
    return report
