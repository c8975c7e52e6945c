"""``xlcrm serve``: the service behind the Excel add-in's ribbon and task pane."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sync.mailbox import is_loopback

from .common import handle_errors

TOKEN_VARIABLE = "XLCRM_SERVICE_TOKEN"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8443,
    show_default=True,
    help="Port; the manifest 'xlcrm addin setup' wrote names it.",
)
@click.option(
    "--cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TLS certificate (default: the one 'xlcrm addin setup' made).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The certificate's private key (default: the one 'xlcrm addin setup' made).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=f"File holding the access token every API call must carry (or ${TOKEN_VARIABLE}). "
    "Required when listening beyond localhost.",
)
@click.option(
    "--no-tls",
    is_flag=True,
    help="Plain HTTP, on loopback only: for tests and for a proxy that terminates TLS on the "
    "same machine. Office itself only loads add-ins over HTTPS.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; the service keeps no state, so any worker answers any call.",
)
@click.option(
    "--insecure", is_flag=True, help="Do not check mail servers' certificates (test servers)."
)
@click.option(
    "--mailbox",
    "mailboxes",
    multiple=True,
    metavar="URL",
    help="A mailbox the workbooks' Settings may name that has no stored password of its own "
    "(local mail, or one whose password is in XLCRM_PASSWORD / a token variable). Repeatable. "
    "A mailbox with a password stored by 'xlcrm secret set URL' (or the task pane) needs none.",
)
@click.option(
    "--transport",
    "transports",
    multiple=True,
    metavar="URL",
    help="Outgoing mail (smtp://…, smtps://…) the Settings may name, as --mailbox. Repeatable.",
)
@click.option(
    "--templates",
    "template_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of the company's own templates (emails/NAME/, contracts/NAME.docx), "
    "searched before the shipped ones. Requests name templates; they never give paths. Repeatable.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the workers keep the campaign claims ledger (default: the xlcrm home folder's "
    "service/ folder). Every worker must see the same folder.",
)
@handle_errors
def serve(
    host: str,
    port: int,
    cert: Path | None,
    key: Path | None,
    token_file: Path | None,
    no_tls: bool,
    workers: int,
    insecure: bool,
    mailboxes: tuple[str, ...],
    transports: tuple[str, ...],
    template_dirs: tuple[Path, ...],
    state_dir: Path | None,
) -> None:
    """Run the xlcrm service for the Excel add-in (HTTPS, https://localhost:8443 by default).

    It serves the task pane and the API the ribbon's buttons call. It keeps no data: each
    call brings the columns it needs from the open workbook and answers with the changes,
    which the add-in writes into the workbook. Mailbox passwords stay with the service, never
    in the workbook: each in the system keyring for its own URL ('xlcrm secret set URL'), or in
    XLCRM_PASSWORD for the URLs given with --mailbox / --transport. The service opens no other
    mailbox (docs/secrets.md). Run 'xlcrm addin setup' first for the certificate and the
    manifest.
    """
    import uvicorn

    from ..errors import UsageError

    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
    local = is_loopback(host)
    if not local and not token:
        raise UsageError(
            "--host",
            f"listening on {host} lets other machines call the service",
            f"give an access token with --token-file or ${TOKEN_VARIABLE}",
        )
    if no_tls and not local:
        raise UsageError("--no-tls", "plain HTTP is allowed on loopback only")
    ssl: dict[str, str] = {}
    if not no_tls:
        if cert is None or key is None:
            from ..officeaddin.home import server_ssl_paths

            cert, key = server_ssl_paths()
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    # Workers are separate processes: they take their configuration from the environment.
    os.environ["XLCRM_SERVICE_LOCAL"] = "1" if local else "0"
    os.environ["XLCRM_SERVICE_INSECURE"] = "1" if insecure else "0"
    if token:
        os.environ[TOKEN_VARIABLE] = token
    from ..officeaddin.home import xlcrm_home
    from ..service.commands import mailbox_key

    # Checked here, so a mistyped URL stops the service at once rather than a ribbon button.
    os.environ["XLCRM_SERVICE_MAILBOXES"] = "\n".join(mailbox_key(u) for u in mailboxes)
    os.environ["XLCRM_SERVICE_TRANSPORTS"] = "\n".join(mailbox_key(u) for u in transports)
    os.environ["XLCRM_SERVICE_TEMPLATES"] = "\n".join(str(d.resolve()) for d in template_dirs)
    state = (state_dir or xlcrm_home() / "service").resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.environ["XLCRM_SERVICE_STATE"] = str(state)
    scheme = "http" if no_tls else "https"
    click.echo(f"xlcrm service on {scheme}://{host}:{port}/ (Ctrl+C stops it)", err=True)
    uvicorn.run(
        "addin.service.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        server_header=False,
        **ssl,  # type: ignore[arg-type]
    )
