"""``xlcrm campaign``: preview, test, send or draft one mail-merge campaign.

A run reads the workbook once, selects customers (``--where``), plans who is sent, skipped or
already done (:mod:`.plan`), and checks every message before the first one is composed
(:func:`~addin.templating.preflight`). Then, by mode:

- **preview** (the default) writes nothing to the workbook or any mailbox: it reports what
  would happen and writes the first few messages as ``.eml`` files with an HTML index page;
- **test** sends one message, for the first recipient, to ``--test-to`` instead;
- **send** / **drafts** queue every recipient in the Sends table (one save), then send through
  one transport connection — or save drafts — with the journal (:mod:`.journal`) recording each
  step durably, limits and sending hours applied (:mod:`.limits`), retries with backoff on
  temporary failures, and the journal folded into the Sends table every minute (or ten thousand
  messages) and at the end (:mod:`.sends`).

Running the same campaign again continues where it stopped: finished rows are never sent again,
and an interrupted send is settled from the transport's sent items before anything else.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal

from sync.open import open_mailbox, open_transport

from ..errors import UsageError, XlcrmError
from ..journal import Journal, pending
from ..outbox import Outbox, Outgoing
from ..schema import Lang
from ..settings import Settings
from ..templating import (
    CrmData,
    Problem,
    TemplateEnvironment,
    TemplateProblems,
    find_template,
)
from ..templating.preflight import render_checked
from ..unsubscribe import SALT_STATE_KEY, Unsubscribe, make_token
from ..workbook import Book
from ..workbook.book import book_file, init_command
from .limits import EXCHANGE_ONLINE_PER_MINUTE, Limits, SendingHours
from .message import Rendered, TemplateFolder, compose
from .plan import Plan, Recipient, Skip, make_plan
from .preview import write_preview
from .report import CampaignReport
from .select import compile_where
from .sends import campaign_rows, fold, sent_on

log = logging.getLogger(__name__)

Mode = Literal["preview", "test", "send", "drafts"]
TEMPLATE_PROBLEM = "template problem"
# The preflight's renders are kept for sending up to this many characters (about 100 MB of
# memory); beyond that, messages are rendered again when they are sent.
KEEP_RENDERED = 50_000_000
CHECK_STEP = 25  # report the preflight's progress every this many messages


@dataclass
class CampaignOptions:
    template: str
    name: str
    where: str | None = None
    mode: Mode = "preview"
    transport: str | None = None  # smtp(s):// or an Exchange mailbox URL; a mailbox for drafts
    test_to: str | None = None
    sender: str | None = None
    lang: Lang | None = None
    skip_invalid: bool = False
    retry_failed: bool = False
    per_minute: int | None = None
    per_day: int | None = None
    hours: str | None = None
    insecure: bool = False
    preview_dir: Path | None = None
    preview_count: int = 5
    # Fold the journal into the workbook every this many messages… (each fold saves the whole
    # workbook: ~0.1 s for 2,000 customers, seconds for 100,000; the journal is the durable
    # record in between, so folding is for whoever opens the book meanwhile, and a minute is
    # soon enough; the count only keeps the journal small)
    batch: int = 10_000
    batch_seconds: float = 60.0  # …or this often, whichever comes first
    prefetch: int = 8  # messages composed ahead on a thread while one is on the wire; 0: none
    attempts: int = 3  # tries per message on temporary failures
    backoff: float = 2.0  # seconds before the second try, doubling
    now: Callable[[], dt.datetime] = dt.datetime.now
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    progress: Callable[[int, int], None] | None = None  # messages sent (or saved) of the queue
    # Messages checked of those to check (the preflight renders every message before the
    # first is sent or previewed: on 30,000 customers that is minutes, so it shows).
    checking: Callable[[int, int], None] | None = None


@dataclass
class Prepared:
    """Everything loaded before a single message is composed."""

    data: CrmData
    template: TemplateFolder  # every language it has; each recipient gets theirs
    sender: str
    plan: Plan
    contexts: dict[str, dict[str, Any]]
    problems: dict[str, list[str]]
    salt: str
    base_dir: Path | None  # the workbook's folder, where attachments may also come from
    rendered: dict[str, Rendered] = field(default_factory=dict)  # from the preflight


def run_campaign(book: Book, options: CampaignOptions) -> CampaignReport:
    """Run one campaign on the workbook file ``book``; see the module docstring.

    Previews and tests leave the book as it was. Sending (and saving drafts) **saves** the
    book as it goes — the queue before the first message, then every minute (or ten thousand
    messages) and at the end — because mail that left cannot be taken back: its record must be
    on disk.
    """
    path = book_file(book, "xlcrm campaign")
    _check_options(options)
    report = CampaignReport(options.name.strip(), options.mode, options.template)
    if options.mode not in ("send", "drafts") and pending(path):
        report.warnings.append(
            "an earlier sending run was interrupted; run with --send to settle and continue it"
        )
    if options.mode in ("send", "drafts"):
        with Journal(path) as journal:
            _send(book, path, options, report, journal)
        return report
    prepared = _prepare(book, path, options, report)
    if options.mode == "preview":
        _preview(path, options, report, prepared)
    else:
        _test(options, report, prepared)
    return report


def _check_options(options: CampaignOptions) -> None:
    if not options.name.strip():
        raise UsageError("--name", "a campaign needs a name", "e.g. --name spring-2027")
    if options.mode in ("send", "drafts", "test") and not options.transport:
        what = "a mailbox to save drafts in" if options.mode == "drafts" else "a transport"
        raise UsageError(
            "--transport",
            f"{options.mode} needs {what}",
            "e.g. --transport smtps://sales@smtp.exmail.qq.com or ews://…, graph://…",
        )
    if options.mode == "test" and not options.test_to:
        raise UsageError("--test-to", "say where the test message goes")


# -- loading and checking ---------------------------------------------------------------------


def _prepare(book: Book, path: Path, options: CampaignOptions, report: CampaignReport) -> Prepared:
    if options.mode in ("send", "drafts"):
        refuse_demo(book, str(path))
    return prepare_book(
        book,
        options,
        report,
        base_dir=path.parent,
        templates_near=(path.parent, path.parent / "templates"),
    )


def refuse_demo(book: Book, where: str) -> None:
    """The demo workbook's customers have made-up addresses at real-looking domains."""
    if book.state.is_demo:
        raise UsageError(
            where,
            "this is the demo workbook: its customers' addresses are made up",
            "preview the campaign, or use --test-to to send one message to yourself",
        )


def prepare_book(
    book: Book,
    options: CampaignOptions,
    report: CampaignReport,
    *,
    base_dir: Path | None,
    templates_near: Sequence[Path] = (),
    only: Callable[[str], bool] | None = None,
) -> Prepared:
    """Load the template, select and plan, and check the messages of an open ``book``.

    ``base_dir`` is where attachments named in the template may also come from (the
    workbook's folder; None on the service, where only the template folder counts).
    ``only`` limits the check (and the contexts kept for composing) to the customer ids it
    accepts: a batch checks its own recipients, not the whole campaign again.
    """
    data = CrmData(book, today=options.now().date())
    lang = options.lang or book.lang
    env = TemplateEnvironment(lang)
    folder = find_template(options.template, "emails", lang, near=templates_near)
    template = TemplateFolder.load(folder, lang, env)
    sender = options.sender or template.sender or data.settings.text("sender")
    if not sender:
        raise UsageError(
            "--sender",
            "campaign messages need a From address",
            f"fill {data.settings.where('sender')} (Campaign sender), give from: in the "
            "template's front matter, or --sender 'Name <address>'",
        )
    where = compile_where(options.where, data.customers.columns)
    selected = [row for row in data.customer_rows.values() if where(row)]
    report.selected = len(selected)
    existing = campaign_rows(book, report.campaign) if book.has_table("sends") else {}
    plan = make_plan(selected, existing, retry_failed=options.retry_failed)
    salt = book.state.get(SALT_STATE_KEY) or secrets.token_hex(16)
    contexts: dict[str, dict[str, Any]] = {}
    problems: dict[str, list[str]] = {}
    rendered: dict[str, Rendered] = {}
    kept = 0  # characters of rendered messages kept for sending
    total = len(plan.to_send)
    for position, recipient in enumerate(plan.to_send):
        if options.checking and (position % CHECK_STEP == 0):
            options.checking(position, total)
        if only is not None and not only(recipient.customer_id):
            continue
        built = data.campaign_context(
            recipient.customer_id,
            default_lang=lang,
            campaign=report.campaign,
            unsubscribe_url=_unsubscribe(recipient, sender, salt, data).link,
        )
        result, missing = render_checked(
            functools.partial(template.render, base_dir=base_dir), built.context
        )
        found = list(dict.fromkeys([*built.problems, *missing]))
        if found:
            problems[built.where] = found
        elif result is not None and kept < KEEP_RENDERED:  # the one to send, too
            rendered[recipient.customer_id] = result
            kept += result.size
        contexts[recipient.customer_id] = built.context
        report.languages[built.context["lang"]] += 1
    if options.checking:
        options.checking(total, total)
    report.already.update(plan.done.values())
    report.problems = [Problem(w, m) for w, ms in problems.items() for m in ms]
    return Prepared(data, template, sender, plan, contexts, problems, salt, base_dir, rendered)


def _unsubscribe(recipient: Recipient, sender: str, salt: str, data: CrmData) -> Unsubscribe:
    token = make_token(recipient.customer_id, salt)
    url = data.settings.text("unsubscribe_url")
    try:
        return Unsubscribe(
            token=token,
            mailto=_address_of(sender),
            url=url.replace("{token}", token) if url else None,
        )
    except ValueError as error:
        raise UsageError(
            data.settings.where("unsubscribe_url"),
            f"the unsubscribe URL {url!r} cannot be used: {error}",
            "write an https:// address, with {token} where the recipient's token goes",
        ) from None


def _address_of(sender: str) -> str:
    return parseaddr(sender)[1] or sender


def message_id(campaign: str, customer_id: str, salt: str, sender: str) -> str:
    """The same Message-ID every time this campaign mails this customer from this workbook,
    so a resumed run can ask the sent items whether it already went out."""
    digest = hashlib.sha256(f"{salt}\0{campaign}\0{customer_id}".encode()).hexdigest()[:20]
    domain = _address_of(sender).rpartition("@")[2] or "xlcrm.invalid"
    return f"<xlcrm.{digest}.{customer_id.lower()}@{domain}>"


def compose_message(
    prepared: Prepared, recipient: Recipient, campaign: str, now: dt.datetime, to: str = ""
) -> tuple[bytes, str, str]:
    """The message for ``recipient`` (to ``to`` instead when given): bytes, Message-ID, subject."""
    context = prepared.contexts[recipient.customer_id]
    rendered = prepared.rendered.pop(recipient.customer_id, None)
    if rendered is None:
        rendered = prepared.template.render(context, base_dir=prepared.base_dir)
    msgid = message_id(campaign, recipient.customer_id, prepared.salt, prepared.sender)
    data = compose(
        rendered,
        sender=prepared.sender,
        to=to or recipient_field(context, recipient),
        message_id=msgid,
        date=now.astimezone(),
        unsubscribe=_unsubscribe(recipient, prepared.sender, prepared.salt, prepared.data),
        headers={"X-Campaign": campaign},
    )
    return data, msgid, rendered.subject


def recipient_field(context: dict[str, Any], recipient: Recipient) -> str:
    name = context["customer"].get("name")
    if not name:
        return recipient.email
    try:
        user, _, domain = recipient.email.rpartition("@")
        return str(Address(display_name=name, username=user, domain=domain))
    except (ValueError, IndexError):
        return recipient.email


# -- preview and test ---------------------------------------------------------------------------


def _preview(
    path: Path, options: CampaignOptions, report: CampaignReport, prepared: Prepared
) -> None:
    report.skipped.update(s.reason for s in prepared.plan.skipped)
    good = mailable(prepared)
    report.ready = len(good)
    now = options.now()
    samples = []
    for recipient in sample_recipients(prepared, good, options.preview_count):
        data, _, subject = compose_message(prepared, recipient, report.campaign, now)
        samples.append((recipient, subject, data))
    folder = options.preview_dir or path.parent / "campaign-preview" / _folder_name(report.campaign)
    report.preview_index, report.preview_files = write_preview(folder, report, samples)


def mailable(prepared: Prepared) -> list[Recipient]:
    """The recipients to send whose message was checked and has no problem."""
    return [
        r
        for r in prepared.plan.to_send
        if r.customer_id in prepared.contexts
        and prepared.data.customer_where(r.customer_id) not in prepared.problems
    ]


def sample_recipients(prepared: Prepared, good: list[Recipient], count: int) -> list[Recipient]:
    """The first ``count`` recipients, with the first of each language among them, so the
    preview shows every version of the template that will go out (an English workbook's
    preview also shows the message its Chinese customers get)."""
    count = max(count, 0)
    firsts: dict[Any, Recipient] = {}
    for recipient in good:
        firsts.setdefault(prepared.contexts[recipient.customer_id].get("lang"), recipient)
    chosen = list(firsts.values())[:count]
    for recipient in good:
        if len(chosen) >= count:
            break
        if recipient not in chosen:
            chosen.append(recipient)
    order = {r.customer_id: i for i, r in enumerate(good)}
    return sorted(chosen, key=lambda r: order[r.customer_id])


def _folder_name(campaign: str) -> str:
    from ..filenames import safe_file_name

    return safe_file_name(campaign, "")


def _test(options: CampaignOptions, report: CampaignReport, prepared: Prepared) -> None:
    transport = _open(options)
    try:
        send_sample(prepared, report.campaign, options, transport)
    finally:
        transport.close()
    report.ready = len(mailable(prepared))


def send_sample(
    prepared: Prepared, campaign: str, options: CampaignOptions, transport: Any
) -> tuple[Recipient, str]:
    """Send the first recipient's message to ``options.test_to`` as a test copy; returns the
    recipient it was made for and its subject (``[TEST] …``)."""
    good = mailable(prepared)
    if not good:
        raise XlcrmError(None, "no selected customer can be mailed, so there is nothing to test")
    recipient = good[0]
    now = options.now()
    data, _, subject = compose_message(prepared, recipient, campaign, now, to=options.test_to or "")
    transport.send(as_test(data))
    return recipient, f"[TEST] {subject}"


def as_test(message: bytes) -> bytes:
    """A test copy: a fresh Message-ID (the real one stays unused) and [TEST] in the subject."""
    parsed = email.message_from_bytes(message, policy=email.policy.SMTP)
    subject = parsed["Subject"]
    del parsed["Subject"], parsed["Message-ID"]
    parsed["Subject"] = f"[TEST] {subject}"
    parsed["Message-ID"] = make_msgid(domain="xlcrm.test")
    return parsed.as_bytes()


def _open(options: CampaignOptions) -> Any:
    url = options.transport or ""
    if options.mode == "drafts":
        return open_mailbox(url, insecure=options.insecure)
    return open_transport(url, insecure=options.insecure)


# -- sending ------------------------------------------------------------------------------------


def _send(
    book: Book, path: Path, options: CampaignOptions, report: CampaignReport, journal: Journal
) -> None:
    """Settle → queue → send → record through the outbox (:class:`~addin.outbox.Outbox`) over
    the journal beside the workbook (:class:`.store_journal.JournalSends`)."""
    from .store_journal import JournalSends

    transport = _open(options)
    mailbox = getattr(transport, "url", None)
    try:
        with JournalSends(book, journal, options, report, mailbox) as store:
            outbox = Outbox(
                store,
                transport,
                options,
                deliver=transport.save_draft if options.mode == "drafts" else transport.send,
                lookup=transport.was_drafted if options.mode == "drafts" else None,
                now=options.now,
                monotonic=options.monotonic,
                progress=options.progress,
            )
            outbox.settle()
            store.fold_settled(path)
            prepared = _prepare(book, path, options, report)
            bad = set(prepared.problems)
            if bad and not options.skip_invalid:
                raise TemplateProblems(report.problems, "nothing was sent")
            limits = _queue(book, path, options, report, prepared, bad)
            outbox.pace = limits
            outbox.pipeline = not limits.per_minute  # the next message is not built early
            queue = prepared.plan.to_send
            report.ready = len(queue)
            # With a per-minute limit the Date header must not be composed minutes ahead.
            ahead = min(1, options.prefetch) if limits.per_minute else options.prefetch

            def build(recipient: Recipient) -> Outgoing:
                data, msgid, subject = compose_message(
                    prepared, recipient, report.campaign, options.now()
                )
                return Outgoing(recipient.customer_id, recipient.email, msgid, data, subject)

            # The command line is one process with one thread: its messages can be composed
            # in a forked child, on the other core (not under a per-minute limit: see above).
            run = outbox.send(queue, build, ahead=ahead, process=not limits.per_minute)
            if run.stopped:
                report.stopped = run.stopped
                report.remaining = len(run.remaining)
    finally:
        try:
            transport.close()
        finally:
            warning = fold(book, journal, mailbox)
            if warning:
                report.warnings.append(
                    f"the Sends table could not be updated ({warning}); the journal "
                    f"{journal.path.name} keeps the record and the next run adds it"
                )


def _queue(
    book: Book,
    path: Path,
    options: CampaignOptions,
    report: CampaignReport,
    prepared: Prepared,
    bad: set[str],
) -> Limits:
    """One save that lists every recipient as queued and every skip with its reason, and
    returns the limits in force (which need today's count from the same table)."""
    rows: list[dict[str, Any]] = []
    for recipient in prepared.plan.to_send:
        where = prepared.data.customer_where(recipient.customer_id)
        if where in bad:
            reason = "; ".join(prepared.problems[where])
            prepared.plan.skipped.append(Skip(recipient.customer_id, recipient.email, reason))
            report.skipped[TEMPLATE_PROBLEM] += 1
            continue
        rows.append(send_row(report.campaign, recipient.customer_id, recipient.email, "queued"))
    for skip in prepared.plan.skipped:
        if prepared.data.customer_where(skip.customer_id) not in bad:
            report.skipped[skip.reason] += 1
        rows.append(send_row(report.campaign, skip.customer_id, skip.email, "skipped", skip.reason))
    prepared.plan.to_send = [
        r for r in prepared.plan.to_send if prepared.data.customer_where(r.customer_id) not in bad
    ]
    if not book.has_table("sends"):
        raise XlcrmError(
            str(path), "the workbook has no Sends table", f"add it with {init_command(str(path))}"
        )
    book.state[SALT_STATE_KEY] = prepared.salt
    book.table("sends").upsert_all(rows)
    limits = limits_for(options, prepared.data.settings, sent_on(book, options.now().date()))
    book.save()  # the queue is on disk before the first message leaves
    return limits


def limits_for(options: CampaignOptions, settings: Settings, sent_today: int) -> Limits:
    """The limits in force: the options, else the Settings table, else (Exchange) the
    per-minute cap of Exchange Online."""
    scheme = (options.transport or "").partition(":")[0].lower()
    default_minute = EXCHANGE_ONLINE_PER_MINUTE if scheme.startswith(("ews", "graph")) else None
    if options.hours:
        hours = SendingHours.parse(options.hours)
    elif settings.text("sending_hours"):
        hours = SendingHours.parse(settings.text("sending_hours"), settings.where("sending_hours"))
    else:
        hours = None
    return Limits(
        per_minute=options.per_minute or settings.int("send_per_minute") or default_minute,
        per_day=options.per_day or settings.int("send_per_day"),
        hours=hours,
        sent_today=sent_today,
    )


def send_row(campaign: str, customer_id: str, email: str, status: str, error: str = "") -> dict:
    return {
        "campaign": campaign,
        "customer_id": customer_id,
        "email": email or None,
        "status": status,
        "error": error or None,
    }
