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
    type=click.Path(dir_okay=False, path_type=Path),
    help="TLS certificate (default: the one 'xlcrm addin setup' made).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
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
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME|URL",
    help="Another host name the service answers for, or the https://… address of a proxy in "
    "front of it (repeatable). Default: the loopback names for a local service, else --host "
    "and the names in its certificate. Other Host headers are refused (DNS rebinding).",
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
    allow_hosts: tuple[str, ...],
) -> None:
    """Run the xlcrm service for the Excel add-in (HTTPS, https://localhost:8443 by default).

    It serves the task pane and the API the ribbon's buttons call. It keeps no data: each
    call brings the columns it needs from the open workbook and answers with the changes,
    which the add-in writes into the workbook. Mailbox passwords stay with the service, never
    in the workbook: each in the system keyring for its own URL ('xlcrm secret set URL'), or in
    XLCRM_PASSWORD for the URLs given with --mailbox / --transport. The service opens no other
    mailbox (docs/secrets.md). Run 'xlcrm addin setup' first for the certificate and the
    manifest.

    Every API call needs an access token, on localhost too: a local service makes one per
    install (in the xlcrm home folder) and hands it to its own task pane only; a shared
    service takes one from --token-file or $XLCRM_SERVICE_TOKEN. See docs/security.md.
    """
    from ..errors import UsageError
    from ..service.lifecycle import check_tls, listen, run

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
    if no_tls:
        cert = key = None
    else:
        default = cert is None and key is None
        if cert is None or key is None:
            from ..officeaddin.home import HomeFiles, xlcrm_home

            files = HomeFiles(xlcrm_home())
            cert, key = cert or files.server_cert, key or files.server_key
        check_tls(cert, key, default=default)
    # Only a per-install token is handed to the pane; a shared token is given out by a person.
    bootstrap = not token
    if not token:
        from ..officeaddin.token import install_token

        token = install_token()
    names, origins = _served(host, local, cert, allow_hosts)
    # Workers are separate processes: they take their configuration from the environment.
    os.environ["XLCRM_SERVICE_LOCAL"] = "1" if local else "0"
    os.environ["XLCRM_SERVICE_INSECURE"] = "1" if insecure else "0"
    os.environ["XLCRM_SERVICE_BOOTSTRAP"] = "1" if bootstrap else "0"
    os.environ["XLCRM_SERVICE_HOSTS"] = "\n".join(names)
    os.environ["XLCRM_SERVICE_ORIGINS"] = "\n".join(origins)
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
    sock = listen(host, port)  # a busy port is one line, before the banner
    scheme = "http" if no_tls else "https"
    click.echo(f"xlcrm service on {scheme}://{host}:{port}/ (Ctrl+C stops it)", err=True)
    run(
        sock,
        host=host,
        port=port,
        workers=workers,
        certfile=str(cert) if cert else None,
        keyfile=str(key) if key else None,
    )


def _served(
    host: str, local: bool, cert: Path | None, allowed: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """The Host names and extra origins the service answers for (see ``--allow-host``)."""
    import urllib.parse

    from ..errors import UsageError

    names: list[str] = []
    origins: list[str] = []
    for entry in allowed:
        if "://" in entry:
            parsed = urllib.parse.urlsplit(entry)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise UsageError("--allow-host", f"not an http(s) address: {entry!r}")
            names.append(parsed.hostname)
            origins.append(f"{parsed.scheme}://{parsed.netloc}".lower())
        else:
            names.append(entry.strip().lower())
    if local:
        names.append("localhost")
    else:
        if host not in ("0.0.0.0", "::", ""):
            names.append(host)
        if cert is not None:
            names += _certificate_names(cert)
        if not names:
            raise UsageError(
                "--host",
                f"listening on {host}, the service does not know which host names it serves",
                "give them with --allow-host (e.g. --allow-host crm.example.com)",
            )
    return names, origins


def _certificate_names(cert: Path) -> list[str]:
    """The DNS names and addresses a server certificate is valid for: the names people use
    to reach this service."""
    from cryptography import x509

    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
        sans = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return []
    return [str(n) for n in sans.get_values_for_type(x509.DNSName)] + [
        str(a) for a in sans.get_values_for_type(x509.IPAddress)
    ]
