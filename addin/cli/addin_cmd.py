"""``xlcrm addin setup``: what a computer needs before Excel can load the CRM tab."""

from __future__ import annotations

from pathlib import Path

import click

from .common import handle_errors


@click.group("addin")
def addin() -> None:
    """Install the Excel add-in: the CRM tab (客户管理) on Excel's ribbon.

    The add-in's pages come from 'xlcrm serve' over HTTPS; 'xlcrm addin setup' makes the
    certificate and the manifest that Excel loads.
    """


@addin.command("setup")
@click.option(
    "--url",
    default="https://localhost:8443",
    show_default=True,
    metavar="URL",
    help="Where 'xlcrm serve' will answer (https only); another host than this computer "
    "needs an access token.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder for the certificates and the manifest (default: $XLCRM_HOME or ~/.xlcrm).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Also write the manifest here (a file, or a folder to put manifest.xml in).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Make a new certificate authority and server certificate even if the old ones are "
    "still good (you then trust the new authority again).",
)
@handle_errors
def setup(url: str, home: Path | None, out: Path | None, force: bool) -> None:
    """Make the HTTPS certificate and the add-in manifest, and say how to install them.

    The first run makes a small certificate authority and a certificate for the URL's host
    in the xlcrm home folder; later runs keep them while they are good and write the
    manifest again (same add-in id, so Excel updates the add-in rather than adding another).
    It then prints how to trust the authority on Windows, macOS and Linux, how to load the
    manifest into Excel, and the 'xlcrm serve' command to start.
    """
    from ..officeaddin.instructions import summary
    from ..officeaddin.setup import setup as run_setup

    click.echo(summary(run_setup(url, home=home, out=out, force=force)))
