"""What ``xlcrm addin setup`` tells a person to do next: the one place this text lives.

Each step is a template with the real paths filled in, so what is printed can be copied and
run as it is. ``docs/addin.md`` explains the same steps at length; a test checks that every
command and menu path below appears there too, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .certs import CertReport
from .home import HomeFiles

# Trusting the certificate authority, per system ({ca}: the authority's certificate).
TRUST = (
    ("Windows", 'certutil -user -addstore Root "{ca}"'),
    (
        "macOS",
        'security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "{ca}"',
    ),
    (
        "Linux",
        'sudo cp "{ca}" /usr/local/share/ca-certificates/ && sudo update-ca-certificates',
    ),
    (
        "Firefox",
        "Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import",
    ),
)
# Sideloading the manifest ({manifest}: the manifest's path).
SIDELOAD = (
    (
        "Windows",
        "put {manifest} in a shared folder; in Excel: File > Options > Trust Center > "
        "Trust Center Settings > Trusted Add-in Catalogs, add the folder's network path "
        "(\\\\COMPUTER\\share), tick Show in Menu, restart Excel; then Home > Add-ins > "
        "More Add-ins > SHARED FOLDER > xlcrm > Add",
    ),
    (
        "Mac",
        "copy {manifest} into ~/Library/Containers/com.microsoft.Excel/Data/Documents/wef/ "
        "(make the wef folder if it is missing), restart Excel; then Insert > Add-ins > "
        "My Add-ins > xlcrm",
    ),
    (
        "Excel on the web",
        "Home > Add-ins > More Add-ins > My Add-ins > Upload My Add-in, choose {manifest}",
    ),
)
CENTRAL = (
    "For everyone in a company, an administrator deploys the manifest from the Microsoft 365 "
    "admin center: Settings > Integrated apps > Upload custom apps. That needs a service URL "
    "that every user reaches (not localhost)."
)
TOKEN = (
    "{host} is not this computer, so the service requires an access token: start it with "
    "--token-file FILE (a file holding a long random secret that only the service can read); "
    "each user enters the token once in the task pane's Settings. It is kept in Office's "
    "storage for the add-in, never in a workbook."
)
SERVE_LOCAL = "xlcrm serve --port {port}"
SERVE_SHARED = "xlcrm serve --host 0.0.0.0 --port {port} --token-file FILE"
CHECK = "open {url}/help.html in a browser: it must load without a certificate warning"


@dataclass(frozen=True)
class Made:
    """What setup made or kept, as its summary shows it."""

    url: str
    host: str
    port: int
    loopback: bool
    files: HomeFiles
    certs: CertReport
    addin_id: str
    copies: tuple[Path, ...]  # where else the manifest was written (--out)


def serve_command(port: int, *, loopback: bool) -> str:
    """The ``xlcrm serve`` command for the URL setup was given."""
    return (SERVE_LOCAL if loopback else SERVE_SHARED).format(port=port)


def summary(made: Made) -> str:
    """Everything setup prints: what it made and where, then the steps, numbered."""
    files, certs = made.files, made.certs

    def state(new: bool) -> str:
        return "new" if new else "kept"

    lines = [
        f"xlcrm add-in for {made.url}, in {files.home}:",
        f"  certificate authority ({state(certs.ca_made)}):  {files.ca_cert}",
        f"  its private key:               {files.ca_key}  (stays here, readable by you only)",
        f"  server certificate ({state(certs.server_made)}):     {files.server_cert}",
        f"    valid for {', '.join(certs.names)} until {certs.expires:%Y-%m-%d}",
        f"  server key:                    {files.server_key}",
        f"  add-in manifest:               {files.manifest}  (add-in id {made.addin_id})",
        *(f"    and a copy:                  {copy}" for copy in made.copies),
    ]
    if certs.why:
        lines.append(f"  (certificates made because {certs.why})")
    trust_note = (
        "once per computer; again only after a new authority was made"
        if not certs.ca_made
        else "once per computer: this authority is new"
    )
    lines += ["", f"1. Trust the certificate authority ({trust_note}):"]
    lines += [f"   {system + ':':<17} {text.format(ca=files.ca_cert)}" for system, text in TRUST]
    lines.append("   Then restart Excel and your browser.")
    lines += [
        "",
        "2. Start the service and leave it running:",
        f"   {serve_command(made.port, loopback=made.loopback)}",
        f"   To check: {CHECK.format(url=made.url)}.",
    ]
    if not made.loopback:
        lines.append(f"   {TOKEN.format(host=made.host)}")
    lines += ["", "3. Load the add-in into Excel, for yourself (sideloading):"]
    lines += [
        f"   {system + ':':<17} {text.format(manifest=files.manifest)}" for system, text in SIDELOAD
    ]
    lines.append("   The CRM tab (客户管理 in Chinese Office) appears on the ribbon.")
    lines += ["", f"4. {CENTRAL}", "", f"More: docs/addin.md, or {made.url}/help.html"]
    return "\n".join(lines)
