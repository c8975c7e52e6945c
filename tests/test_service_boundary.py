"""The service's HTTP boundary over real HTTP (uvicorn on loopback), request by request: what a
browser or a script that is not the add-in gets back, and the headers every answer carries.
The attacks in a real browser are in ``test_browser_boundary.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from addin_client import CLIENT_HEADERS, TOKEN, AddinClient, running_service
from officehost import OfficeHost

from addin.cli.serve import _served
from addin.init import create_workbook
from addin.officeaddin.setup import setup
from addin.service import ServiceConfig

ADDIN = {**CLIENT_HEADERS, "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_service() as url:
        yield url


def settings_request(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    host = OfficeHost.from_xlsx(create_workbook(tmp_path / "crm.xlsx", "en"))
    return host.request("settings", {"step": "get"})


def test_every_answer_carries_the_security_headers(base_url: str) -> None:
    page = httpx.get(f"{base_url}/taskpane.html")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' https://appsforoffice.microsoft.com;" in csp
    assert "default-src 'self';" in csp and "connect-src 'self';" in csp
    assert "object-src 'none'" in csp
    ancestors = csp.split("frame-ancestors ")[1].split(";")[0].split()
    assert ancestors[0] == "'self'"
    assert {"https://*.officeapps.live.com", "https://*.office.com"} <= set(ancestors)
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in page.headers  # pages and icons may be cached
    api = httpx.get(f"{base_url}/api/v1/commands", headers=ADDIN)
    assert api.status_code == 200
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["cross-origin-resource-policy"] == "same-origin"
    refused = httpx.get(f"{base_url}/api/v1/commands", headers=CLIENT_HEADERS)
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"


def test_what_a_browser_sends_for_another_origin_is_refused(base_url: str, tmp_path: Path) -> None:
    request = settings_request(tmp_path)
    plan = f"{base_url}/api/v1/plan"
    preflight = httpx.options(
        plan,
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-xlcrm-client,authorization",
        },
    )
    assert preflight.status_code == 403
    assert not [h for h in preflight.headers if h.startswith("access-control-")]
    foreign = httpx.post(plan, json=request, headers={**ADDIN, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert foreign.json()["error"]["message"].startswith("requests from 'https://evil.example'")
    other_port = httpx.post(plan, json=request, headers={**ADDIN, "Origin": "http://127.0.0.1:1"})
    assert other_port.status_code == 403
    same_site = httpx.post(plan, json=request, headers={**ADDIN, "Sec-Fetch-Site": "same-site"})
    assert same_site.status_code == 403
    assert "a same-site request was refused" in same_site.json()["error"]["message"]
    as_text = httpx.post(
        plan, content=b"{}", headers={**ADDIN, "Content-Type": "text/plain;charset=UTF-8"}
    )
    assert as_text.status_code == 415
    assert "'text/plain', not application/json" in as_text.json()["error"]["message"]
    no_header = httpx.post(plan, json=request, headers={"Authorization": f"Bearer {TOKEN}"})
    assert no_header.status_code == 403
    assert "X-Xlcrm-Client" in no_header.json()["error"]["message"]
    own = httpx.post(
        plan,
        json=request,
        headers={**ADDIN, "Origin": base_url, "Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 200, own.text


def test_a_foreign_host_is_refused_everywhere(base_url: str) -> None:
    """DNS rebinding: the name resolves to 127.0.0.1 but is not one of ours — pages too."""
    port = base_url.rsplit(":", 1)[1]
    for path in ("/taskpane.html", "/api/v1/health", "/api/v1/session", "/api/v1/commands"):
        answer = httpx.get(
            f"{base_url}{path}", headers={**ADDIN, "Host": f"attacker.example:{port}"}
        )
        assert answer.status_code == 421, path
        assert answer.json()["error"]["message"] == (
            "this xlcrm service does not answer for the host name 'attacker.example'"
        )
    for name in ("localhost", "127.0.0.1", "[::1]"):
        ok = httpx.get(f"{base_url}/api/v1/health", headers={"Host": f"{name}:{port}"})
        assert ok.status_code == 200, name


def test_a_service_behind_a_proxy_answers_its_public_name_and_page_only(tmp_path: Path) -> None:
    config = ServiceConfig(
        token=TOKEN, local=False, hosts=("crm.example.cn",), origins=("https://crm.example.cn",)
    )
    request = settings_request(tmp_path)
    with running_service(config) as url:
        public = {**ADDIN, "Host": "crm.example.cn", "Origin": "https://crm.example.cn"}
        assert httpx.post(f"{url}/api/v1/plan", json=request, headers=public).status_code == 200
        loopback = httpx.get(f"{url}/api/v1/health")
        assert loopback.status_code == 421  # not a name this shared service was given
        evil = httpx.post(
            f"{url}/api/v1/plan", json=request, headers={**public, "Origin": "https://evil.cn"}
        )
        assert evil.status_code == 403


def test_serve_takes_its_names_from_the_certificate_and_allow_host(tmp_path: Path) -> None:
    made = setup("https://crm.example.cn:9443", home=tmp_path)
    names, origins = _served(
        "0.0.0.0", False, made.files.server_cert, ("https://xlcrm.example.cn", "crm2.example.cn")
    )
    assert set(names) == {"crm.example.cn", "xlcrm.example.cn", "crm2.example.cn"}
    assert origins == ["https://xlcrm.example.cn"]
    assert _served("127.0.0.1", True, None, ()) == (["localhost"], [])


def test_the_add_in_client_still_runs_commands(base_url: str, tmp_path: Path) -> None:
    host = OfficeHost.from_xlsx(create_workbook(tmp_path / "crm.xlsx", "zh"))
    assert AddinClient(base_url, host).run("settings", {"step": "get"}).result["settings"]
