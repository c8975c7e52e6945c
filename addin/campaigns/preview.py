"""The preview a campaign writes before anything is sent: sample .eml files and an index page.

The .eml files open in Outlook, Foxmail, Thunderbird or Apple Mail exactly as the recipient
would see them (inline images, attachments, both bodies; the one text body of a plain-text
template). The samples include the first recipient of each language the campaign writes in.
``index.html`` lists the run's numbers and shows every sample's body (HTML, or the plain text)
beside its headers and language, so a marketing person can check the whole campaign in a
browser.
"""

from __future__ import annotations

import email
import email.policy
import html
from pathlib import Path

from ..filenames import safe_file_name
from .plan import Recipient
from .report import CampaignReport


def write_preview(
    folder: Path, report: CampaignReport, samples: list[tuple[Recipient, str, bytes]]
) -> tuple[Path, list[Path]]:
    """Write ``samples`` as .eml files and an index page in ``folder``; returns both."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()  # a previous preview's samples would mislead
    files = []
    cards = []
    for number, (recipient, subject, data) in enumerate(samples, 1):
        name = safe_file_name(f"{number:02d} {recipient.customer_id} {recipient.email}", ".eml")
        path = folder / name
        path.write_bytes(data)
        files.append(path)
        cards.append(_card(name, recipient, subject, data))
    index = folder / "index.html"
    index.write_text(_page(report, cards), encoding="utf-8")
    return index, files


def _card(name: str, recipient: Recipient, subject: str, data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(("html",))  # type: ignore[attr-defined]
    if body is not None:
        markup = body.get_content()
    else:  # a plain-text template: show the text as the recipient's mail program does
        text = message.get_body(("plain",))  # type: ignore[attr-defined]
        content = text.get_content() if text is not None else ""
        markup = (
            '<meta charset="utf-8"><pre style="white-space:pre-wrap;font-family:'
            f'system-ui,sans-serif">{html.escape(content)}</pre>'
        )
    kind = "HTML" if body is not None else "plain text"
    language = str(message["Content-Language"] or "")
    attachments = [a.get_filename() or "" for a in message.iter_attachments()]  # type: ignore[attr-defined]
    attached = ", ".join(html.escape(a) for a in attachments if a) or "none"
    return f"""
<section>
  <h2>{html.escape(subject)}</h2>
  <p><b>To:</b> {html.escape(str(message["To"]))} ({html.escape(recipient.customer_id)})<br>
     <b>From:</b> {html.escape(str(message["From"]))}<br>
     <b>Language:</b> {html.escape(language)} ({kind})<br>
     <b>Attachments:</b> {attached}<br>
     <a href="{html.escape(name)}">{html.escape(name)}</a></p>
  <iframe sandbox srcdoc="{html.escape(markup, quote=True)}"></iframe>
</section>"""


def _page(report: CampaignReport, cards: list[str]) -> str:
    summary = "".join(f"<li>{html.escape(line.strip())}</li>" for line in report.lines()[1:])
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<title>{html.escape(report.campaign)} — preview</title>
<style>
 body {{ font-family: system-ui, "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em; }}
 section {{ border-top: 1px solid #ccc; padding-top: 1em; margin-top: 1em; }}
 iframe {{ width: 100%; max-width: 720px; height: 640px; border: 1px solid #ddd; }}
</style></head>
<body>
<h1>{html.escape(report.campaign)}</h1>
<p>{html.escape(report.lines()[0])}</p>
<ul>{summary}</ul>
{"".join(cards) or "<p>No message to show: no selected customer can be mailed.</p>"}
</body></html>
"""
