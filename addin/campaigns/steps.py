"""Campaigns on any open :class:`~addin.workbook.Book`, for the ribbon service (which has no
workbook file): what the task pane shows before sending, and a test message.

- :func:`preview_campaign` — the counts, the problems and the first messages exactly as they
  would go out (HTML with the unsubscribe link), as data; nothing is written anywhere;
- :func:`list_templates` — the e-mail templates to pick from;
- :func:`send_test` — one sample to the sender's own address, as ``--test-to`` does.

Sending itself, in batches and exactly once, is :mod:`.batches`. Everything here is the command
line's own machinery (:mod:`.run`): the same selection, plan, preflight and composition.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..schema import Lang
from ..templating.locate import builtin_names, builtin_root
from ..workbook import Book
from .message import EmailTemplateError, template_languages, template_subject
from .plan import Recipient
from .report import CampaignReport
from .run import (
    CampaignOptions,
    Prepared,
    compose_message,
    mailable,
    prepare_book,
    sample_recipients,
    send_sample,
)

_CID = re.compile(r"""(["'(])cid:([^"')]+)(["')])""", re.IGNORECASE)


def campaign_name(options: CampaignOptions) -> str:
    """The campaign's name as the Sends table keeps it; an error when there is none."""
    campaign = options.name.strip()
    if not campaign:
        raise UsageError("--name", "a campaign needs a name", "e.g. spring-2027")
    return campaign


# -- preview ------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One message as it will be sent, for the task pane to show."""

    customer_id: str
    name: str
    to: str
    subject: str
    html: str | None  # the HTML part (None: a plain-text template); images as data: URIs
    text: str | None  # the plain-text part
    lang: str = ""  # the message's language (Content-Language: en, zh-CN)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class CampaignPreview:
    campaign: str
    template: str
    selected: int = 0
    would_send: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    already: Counter[str] = field(default_factory=Counter)  # earlier runs, by status
    problems: list[dict[str, str]] = field(default_factory=list)  # customer_id, where, what
    samples: list[Sample] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "template": self.template,
            "selected": self.selected,
            "would_send": self.would_send,
            "skipped": dict(self.skipped),
            "already": dict(self.already),
            "problems": list(self.problems),
            "samples": [s.as_dict() for s in self.samples],
        }

    def lines(self) -> list[str]:
        """What a person reads about the preview (the :class:`~addin.outcome.Report` protocol)."""
        out = [
            f"{self.campaign}: {self.selected} selected, {self.would_send} would be sent "
            f"(template {self.template})"
        ]
        out += [f"  skipped, {reason}: {n}" for reason, n in sorted(self.skipped.items())]
        out += [f"  already {status}: {n}" for status, n in sorted(self.already.items())]
        out += [f"  problem: {p.get('where', '')}: {p.get('what', '')}" for p in self.problems]
        return out


def preview_campaign(
    book: Book,
    options: CampaignOptions,
    *,
    samples: int = 5,
    base_dir: Path | None = None,
    templates_near: Sequence[Path] = (),
) -> CampaignPreview:
    """What the campaign would do, changing nothing and writing no file: the counts, every
    problem (customer, where, what) and the first ``samples`` messages as they would go out."""
    campaign = campaign_name(options)
    report = CampaignReport(campaign, "preview", options.template)
    prepared = prepare_book(book, options, report, base_dir=base_dir, templates_near=templates_near)
    good = mailable(prepared)
    preview = CampaignPreview(campaign, options.template, report.selected, len(good))
    preview.skipped.update(s.reason for s in prepared.plan.skipped)
    preview.already.update(report.already)
    where_to_id = {
        prepared.data.customer_where(r.customer_id): r.customer_id for r in prepared.plan.to_send
    }
    preview.problems = [
        {"customer_id": where_to_id.get(p.where, ""), "where": p.where, "what": p.message}
        for p in report.problems
    ]
    now = options.now()
    for recipient in sample_recipients(prepared, good, samples):
        data, _, subject = compose_message(prepared, recipient, campaign, now)
        preview.samples.append(_sample(prepared, recipient, subject, data))
    return preview


def _sample(prepared: Prepared, recipient: Recipient, subject: str, data: bytes) -> Sample:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    html = html_part.get_content() if html_part is not None else None
    if html is not None:
        html = _inline_images(message, html)
    row = prepared.data.customer_rows.get(recipient.customer_id, {})
    return Sample(
        customer_id=recipient.customer_id,
        name=str(row.get("name") or ""),
        to=str(message["To"]),
        subject=subject,
        html=html,
        text=text_part.get_content() if text_part is not None else None,
        lang=str(message["Content-Language"] or ""),
    )


def _inline_images(message: EmailMessage, html: str) -> str:
    """``cid:`` references replaced by the images themselves (a task pane has no MIME parts)."""
    images: dict[str, str] = {}
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                encoded = base64.b64encode(payload).decode("ascii")
                images[str(cid).strip().strip("<>")] = (
                    f"data:{part.get_content_type()};base64,{encoded}"
                )

    def swap(match: re.Match[str]) -> str:
        found = images.get(match[2])
        return match[0] if found is None else f"{match[1]}{found}{match[3]}"

    return _CID.sub(swap, html) if images else html


def list_templates(lang: Lang, near: Sequence[Path] = ()) -> list[dict[str, str]]:
    """The e-mail templates to choose from: the company's own, found in ``near`` (folders
    holding ``emails/<name>/`` or ``<name>/`` with an ``.html`` or plain-text ``.txt`` in ``en``
    or ``zh``), then the shipped
    ones. ``name`` is what ``CampaignOptions.template`` takes with the same ``near``; an own
    template of a shipped name is the one used, so the shipped one is not listed. ``subject``
    is the subject as written; a template that cannot be read has ``error`` instead."""
    found: dict[str, dict[str, str]] = {}
    for base in near:
        for root in (base / "emails", base):
            if not root.is_dir():
                continue
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if not template_languages(folder):
                    continue
                name = folder.relative_to(base).as_posix()
                found.setdefault(name, _described(name, "own", folder, lang))
    for name in builtin_names("emails"):
        found.setdefault(name, _described(name, "shipped", builtin_root() / name, lang))
    return list(found.values())


def _described(name: str, kind: str, folder: Path, lang: Lang) -> dict[str, str]:
    entry = {"name": name, "kind": kind}
    try:
        entry["subject"] = template_subject(folder, lang)
    except EmailTemplateError as error:
        entry["error"] = str(error)
    return entry


# -- test ---------------------------------------------------------------------------------------


@dataclass
class SampleSent:
    """The test message that went to ``to`` (made for ``customer_id``)."""

    customer_id: str
    to: str
    subject: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def send_test(
    book: Book,
    options: CampaignOptions,
    transport: Any,
    *,
    base_dir: Path | None = None,
    templates_near: Sequence[Path] = (),
) -> SampleSent:
    """Send the first recipient's message to ``options.test_to`` (``[TEST]`` in the subject,
    a fresh Message-ID), as ``xlcrm campaign --test-to`` does. The workbook is not changed;
    ``transport`` stays open (the caller closes it)."""
    if not (options.test_to or "").strip():
        raise UsageError("--test-to", "say where the test message goes")
    campaign = campaign_name(options)
    report = CampaignReport(campaign, "test", options.template)
    prepared = prepare_book(book, options, report, base_dir=base_dir, templates_near=templates_near)
    recipient, subject = send_sample(prepared, campaign, options, transport)
    return SampleSent(recipient.customer_id, options.test_to or "", subject)
