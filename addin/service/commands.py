"""The ribbon's commands: what each reads from the workbook and which library call it makes.

Each command declares the tables and columns it needs (so the client reads nothing more),
validates its options with a pydantic model, and runs the same library function as the CLI
on the request's :class:`~addin.remote.RemoteBook`. Long work is cut into calls: Sync mail asks
the mailbox before anything is read, and a campaign goes out in claimed batches
(:mod:`addin.campaigns.steps`), each leaving the workbook complete.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import mimetypes
import os
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.mailbox import LOCAL_SCHEMES, MailboxError, parse_url
from sync.secrets import from_keyring, scoped, secret_key

from ..errors import UsageError, XlcrmError
from ..remote import RemoteBook
from ..remote import protocol as p
from ..remote.book import ALL, Matching, Need, local_address
from ..settings import KNOWN, read_settings, write_settings
from ..workbook.cells import parse_range
from .body import TOO_BIG_HINT, BodyError

if TYPE_CHECKING:
    from .app import ServiceConfig

Needs = Mapping[str, Need]
BATCH = 25  # campaign messages per call: a lost answer leaves at most this many uncertain


@dataclass
class Context:
    book: RemoteBook
    options: Any
    config: ServiceConfig
    request: p.PlanRequest


@dataclass
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    status: Literal["done", "more"] = "done"
    next: dict[str, Any] | None = None
    progress: p.Progress | None = None


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Command:
    name: str
    en: str
    zh: str
    options: type[Options]
    needs: Callable[[Any], Needs]
    run: Callable[[Context], Outcome]
    needs_selection: bool = False
    # The posted cells this command may work on within the service's memory bound (about
    # 300 MB): what it builds from each cell — rows, indexes, rendered messages — costs far
    # more than decoding it, and differently per command (bench/README.md, "The service's
    # memory"). None: the request limits alone (commands that read little).
    max_cells: int | None = None

    def parse(self, raw: Mapping[str, Any]) -> Any:
        return self.options.model_validate(dict(raw))

    def check_size(self, request: p.RunRequest) -> None:
        """Refuse, before any work, a workbook too large for this command from the ribbon."""
        if self.max_cells is None:
            return
        cells = sum(
            len(t.rows) * (len(t.columns) if t.columns is not None else len(t.header))
            for t in request.tables.values()
        )
        if cells > self.max_cells:
            raise too_many_cells(self.en, cells, self.max_cells)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": {"en": self.en, "zh": self.zh},
            "needs_selection": self.needs_selection,
        }


def too_many_cells(title: str, cells: int, limit: int) -> BodyError:
    return BodyError(
        f"the workbook is too large for {title} from Excel: {cells:,} cells to read, at most "
        f"{limit:,}",
        TOO_BIG_HINT,
        413,
        code="request.too_many_cells",
        params={"cells": f"{cells:,}", "limit": f"{limit:,}"},
    )


# -- helpers -----------------------------------------------------------------------------------


def mailbox_key(url: str) -> str:
    """The text two spellings of one mailbox or transport URL share (:func:`secret_key`; a
    local folder by its absolute path, worked out without touching the disk: a request's path
    is compared, never looked at), for comparing a request's URL with the service's."""
    key = secret_key(url)
    scheme, _, path = key.partition(":")
    if scheme in LOCAL_SCHEMES:
        return f"{scheme}:{os.path.normpath(Path.cwd() / Path(path).expanduser())}"
    return key


def configured(config: ServiceConfig) -> frozenset[str]:
    """The URLs the person who started the service named (``--mailbox``, ``--transport``)."""
    return frozenset(mailbox_key(url) for url in (*config.mailboxes, *config.transports))


class CodedError(XlcrmError):
    """An input error the task pane words itself: ``code`` names it for the pane's own texts
    (addin/web/js/i18n.js, ``error.<code>``), whatever language the service speaks."""

    def __init__(
        self,
        where: str | None,
        message: str,
        hint: str | None,
        *,
        code: str,
        params: dict[str, str],
    ) -> None:
        super().__init__(where, message, hint)
        self.code = code
        self.params = params


def _setting_url(ctx: Context, key: str) -> str:
    """The mailbox or transport URL in the workbook's Settings — only when the service may
    open it: the person who started the service named it, or stored a password for exactly
    it. Anything else is refused here, before any connection, with the same answer whatever
    the host, port or path, so a request learns nothing about what is reachable or exists."""
    settings = read_settings(ctx.book)
    url = settings.text(key)
    label = next(s for s in KNOWN if s.key == key)
    if not url:
        raise CodedError(
            settings.where(key),
            f"the workbook does not say which mailbox to use ({label.en} / {label.zh})",
            f"put its URL in the Settings sheet's '{label.label(ctx.book.lang)}' row, "
            "e.g. imaps://sales@corp.cn@imap.exmail.qq.com",
            code="settings.no_mailbox",
            params={"row": label.label(ctx.book.lang)},
        )
    scheme = url.split(":", 1)[0].lower()
    if scheme in LOCAL_SCHEMES and not ctx.config.local:
        raise XlcrmError(
            settings.where(key),
            "a shared xlcrm service does not read mail folders on its own disk",
            "use an imaps://, ews:// or graph:// mailbox URL",
        )
    try:
        normal = mailbox_key(url)
    except MailboxError as exc:
        raise XlcrmError(settings.where(key), exc.message, exc.hint) from None
    if normal in configured(ctx.config):
        return url
    if scheme not in LOCAL_SCHEMES and from_keyring(url) is not None:
        return url
    raise XlcrmError(
        settings.where(key),
        f"this xlcrm service is not set up for the {label.en.lower()} in the Settings sheet; "
        "nothing was sent to it",
        "store its password in the task pane's Settings (Passwords), or ask whoever runs the "
        "service to start it with --mailbox URL / --transport URL (docs/secrets.md)",
    )


@contextmanager
def _secrets_of(config: ServiceConfig) -> Iterator[None]:
    """Mail opened in this block gets the environment's secrets only for the configured URLs,
    and never a prompt (the service has nobody at its terminal)."""
    with scoped(configured(config)):
        yield


def _summary(lines: list[str]) -> str:
    return "\n".join(lines)


# -- sync --------------------------------------------------------------------------------------


# Sync mail's row filter (docs/protocol.md, "Row filters"): the probe works out the thread
# keys of up to this many new messages (fetching them once more costs less than posting the
# whole Interactions table), and the record call reads the interactions that hold one.
FILTER_MESSAGES = 2_000
MAX_THREAD_KEYS = 50_000


class SyncOptions(Options):
    tickets: bool = False
    phase: Literal["probe", "record"] = "probe"
    # The Message-IDs the new mail is or names (the probe's, then the record call's own when
    # more mail came in): only the interactions holding one are read. None: all of them.
    threads: list[Annotated[str, Field(max_length=998)]] | None = Field(
        default=None, max_length=MAX_THREAD_KEYS
    )


# What Sync mail reads of each customer (ids come with every read). Everything else — names,
# phones, owners, notes of 100,000 customers — stays in Excel: the record call's body is about
# half of what posting whole tables was (bench/README.md, "The service's memory").
SYNC_CUSTOMER_COLUMNS = [
    "email",
    "company",
    "merged_into",
    "last_contact",
    "bounced",
    "tags",
    "unsubscribed",
    "updated",
]


def _sync_needs(options: SyncOptions) -> Needs:
    needs: dict[str, Need] = {"settings": ALL}
    if options.phase == "record":
        needs.update(
            # Linking reads addresses, companies and merges; the effects read and write
            # last contact, bounced, tags, unsubscribed and updated. A column the sync
            # writes is always one it read, so nothing it did not see is overwritten.
            customers=SYNC_CUSTOMER_COLUMNS,
            # Threads link to deals; an open deal's follow-up date moves on.
            deals=["customer_id", "stage", "next_follow_up"],
            sends=ALL,  # campaign replies and bounces: a send's every column is small
            # Recording needs each message once (Message-ID) and the threads' customers and
            # deals; the other columns of 300,000 interactions never leave Excel, and with
            # the probe's thread keys only the rows holding one of them do.
            interactions=_interactions_need(options.threads),
        )
        if options.tickets:
            needs.update(tickets=ALL, ticket_rules=ALL, sla=ALL, interactions=ALL)
    return needs


def _filterable(keys: Collection[str] | None) -> bool:
    """Keys the client can filter by: ASCII (lower-cased alike in JavaScript and Python, as
    Message-IDs are), and not so many that the filter costs more than it saves."""
    return keys is not None and len(keys) <= MAX_THREAD_KEYS and all(k.isascii() for k in keys)


def _interactions_need(threads: list[str] | None) -> list[str] | Matching:
    columns = ["message_id", "thread_id", "customer_id", "deal_id"]
    if threads is None or not _filterable(threads):
        return columns  # every row
    return Matching(columns, match=("message_id", "thread_id"), keys=threads)


def _filter_keys(keys: frozenset[str] | None) -> list[str] | None:
    return sorted(keys) if keys is not None and _filterable(keys) else None


def _mailbox_options(ctx: Context):  # type: ignore[no-untyped-def]
    from ..mailsync import SyncOptions as MailOptions

    threads = ctx.options.threads
    return MailOptions(
        tickets=ctx.options.tickets,
        thread_keys=frozenset(threads) if threads is not None and not ctx.options.tickets else None,
    )


def _sync_run(ctx: Context) -> Outcome:
    with _secrets_of(ctx.config):
        return _sync_mail(ctx)


def _sync_mail(ctx: Context) -> Outcome:
    from sync.open import open_mailbox

    from ..mailsync import ThreadKeysMissing, probe_mailbox, sync_mailbox

    key = "support_mailbox" if ctx.options.tickets else "mailbox"
    url = _setting_url(ctx, key)
    mailbox = open_mailbox(url, insecure=ctx.config.insecure)
    try:
        if ctx.options.phase == "probe":
            probe = probe_mailbox(
                ctx.book, mailbox, _mailbox_options(ctx), keys_up_to=FILTER_MESSAGES
            )
            if probe.count:
                return _record_next(ctx, probe.count, probe.thread_keys)
            for state_key, value in probe.states.items():
                ctx.book.state[state_key] = value
            return Outcome({"summary": f"{_display(url)}: no new mail", "new": 0})
        try:
            report = sync_mailbox(ctx.book, mailbox, _mailbox_options(ctx))
        except ThreadKeysMissing as missing:  # more mail since the probe: read its rows too
            return _record_next(ctx, missing.count, missing.keys)
    finally:
        mailbox.close()
    return Outcome({"summary": report.summary(), **report.as_dict()})


def _record_next(ctx: Context, count: int, keys: frozenset[str] | None) -> Outcome:
    """Answer "more": the record call comes next, reading the interactions ``keys`` name."""
    result: dict[str, Any] = {"new": count}
    if count:
        result["summary"] = f"{count} new message(s) to read"
    return Outcome(
        result,
        status="more",
        next={"tickets": ctx.options.tickets, "phase": "record", "threads": _filter_keys(keys)},
        progress=p.Progress(done=0, total=count, label="Reading mail"),
    )


def _display(url: str) -> str:
    """The mailbox as messages name it (the URL was opened, so it parses)."""
    return parse_url(url).text


# -- contracts ---------------------------------------------------------------------------------


class ContractOptions(Options):
    template: str | None = None
    pdf: bool = False
    deal_ids: list[str] = Field(default_factory=list, max_length=500)


def _selected_ids(ctx: Context, table_name: str) -> list[str]:
    """The ids of the table rows the user selected (any cells of those rows)."""
    selection = ctx.request.selection
    table = ctx.book.table(table_name)
    layout = table.layout
    if selection is None or selection.sheet != layout.sheet:
        raise CodedError(
            "selection",
            f"select one or more rows of the {table.spec.name} table first",
            f"click a row on the '{layout.sheet}' sheet (Ctrl+click for several), then again",
            code="selection.none",
            params={"sheet": layout.sheet},
        )
    rows: set[int] = set()
    for part in local_address(selection.address).split(","):
        r1, _, r2, _ = parse_range(part.strip())
        rows.update(range(max(r1, layout.header_row + 1), min(r2, layout.last_row) + 1))
    ids = [
        row["id"]
        for row in table.rows()
        if row.get("id") and int(table.where_of(row["id"]).rsplit("!", 1)[1]) in rows
    ]
    if not ids:
        raise CodedError(
            f"{selection.sheet}!{local_address(selection.address)}",
            f"the selection holds no {table.spec.name} row with an id",
            "select the rows of the deals you want contracts for",
            code="selection.no_rows",
            params={"sheet": layout.sheet},
        )
    return ids


def _contract_run(ctx: Context) -> Outcome:
    from ..contracts.generate import ContractOptions as Options_
    from ..contracts.generate import generate_contracts

    ids = ctx.options.deal_ids or _selected_ids(ctx, "deals")
    options = Options_(deal_ids=ids, pdf=ctx.options.pdf)
    if ctx.options.template:
        options.template = ctx.options.template
    with tempfile.TemporaryDirectory(prefix="xlcrm-contracts-") as tmp:
        base = Path(tmp)
        report = generate_contracts(
            ctx.book, options, base_dir=base, templates_near=_template_folders(ctx)
        )
        for item in report.generated:
            for file in item.files:
                path = file if file.is_absolute() else base / file
                media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                ctx.book.download(path.name, media, path.read_bytes())
    generated = [
        {"deal_id": g.deal_id, "contract_no": g.contract_no, "files": [f.name for f in g.files]}
        for g in report.generated
    ]
    # The files went to a temporary folder of the service, which means nothing to the user
    # (they are downloads): the summary names them without it.
    summary = _summary(report.lines()).replace(f"{base}{os.sep}", "")
    return Outcome({"summary": summary, "generated": generated})


def _template_folders(ctx: Context) -> Any:
    """Where a request's template name is looked up: the service's own template folders, then
    the shipped ones — names only, never a path the request gives (``TemplateFolders``)."""
    from ..templating import TemplateFolders

    return TemplateFolders(ctx.config.template_dirs)


# -- campaigns ---------------------------------------------------------------------------------


class CampaignOptions(Options):
    step: Literal["templates", "preview", "test", "send"]
    template: str | None = None
    name: str | None = None
    where: str | None = None
    test_to: str | None = None
    claim: str | None = None
    lang: Literal["en", "zh"] | None = None
    skip_invalid: bool = False
    retry_failed: bool = False


SEGMENTS = (
    {"label": {"en": "Everybody", "zh": "全部客户"}, "where": ""},
    {"label": {"en": "A-tier customers", "zh": "A 类客户"}, "where": 'tier == "A"'},
    {"label": {"en": "Leads", "zh": "潜在客户"}, "where": 'status == "Lead"'},
    {
        "label": {"en": "Not contacted for 90 days", "zh": "90 天未联系"},
        "where": "last_contact < today - 90d",
    },
)


def _campaign_needs(options: CampaignOptions) -> Needs:
    if options.step == "templates":
        return {}
    return {
        "customers": ALL,  # a template or a segment may name any column
        "sends": ALL,
        "settings": ALL,
        "deals": ALL,
        "products": ALL,
        # Each message sent is logged once, by its Message-ID; the rest of 300,000
        # interactions stays in Excel (a batch call posts the tables again every 25 messages).
        "interactions": ["message_id"],
    }


def _library_options(ctx: Context, mode: str):  # type: ignore[no-untyped-def]
    from ..campaigns.run import CampaignOptions as Library

    o = ctx.options
    if not o.template or not (o.name or "").strip():
        raise UsageError("campaign", "choose a template and give the campaign a name")
    settings = read_settings(ctx.book)
    return Library(
        template=o.template,
        name=o.name,
        where=o.where or None,
        mode=mode,  # type: ignore[arg-type]
        transport=settings.text("transport") or None,
        test_to=o.test_to,
        sender=settings.text("sender") or None,
        lang=o.lang,
        skip_invalid=o.skip_invalid,
        retry_failed=o.retry_failed,
        insecure=ctx.config.insecure,
    )


def _transport(ctx: Context, options: Any):  # type: ignore[no-untyped-def]
    from sync.open import open_transport

    url = _setting_url(ctx, "transport")
    sender = options.sender
    return open_transport(url, address=_address(sender), insecure=ctx.config.insecure)


def _ledger(config: ServiceConfig) -> Any:
    """The claims ledger every worker of this service shares: files in its state folder
    (``xlcrm serve`` always gives one); without one, this process's memory."""
    from ..campaigns import batches

    if config.state_dir is None:
        return batches.SPENT_CLAIMS
    return batches.FileClaimLedger(config.state_dir / "claims")


def _address(sender: str | None) -> str | None:
    from email.utils import parseaddr

    return parseaddr(sender)[1] or None if sender else None


def _campaign_run(ctx: Context) -> Outcome:
    with _secrets_of(ctx.config):
        return _campaign_step(ctx)


def _campaign_step(ctx: Context) -> Outcome:
    from ..campaigns import batches, steps

    o = ctx.options
    if o.step == "templates":
        lang = o.lang or ctx.book.lang
        templates = steps.list_templates(lang, near=ctx.config.template_dirs)
        return Outcome({"templates": templates, "segments": list(SEGMENTS)})
    folders = _template_folders(ctx)
    if o.step == "preview":
        preview = steps.preview_campaign(
            ctx.book, _library_options(ctx, "preview"), templates_near=folders
        )
        data = preview.as_dict()
        data["summary"] = (
            f"{preview.would_send} of {preview.selected} selected customer(s) would be mailed"
        )
        return Outcome(data)
    options = _library_options(ctx, "test" if o.step == "test" else "send")
    transport = _transport(ctx, options)
    try:
        if o.step == "test":
            sent = steps.send_test(ctx.book, options, transport, templates_near=folders)
            return Outcome({**sent.as_dict(), "summary": f"test message sent to {sent.to}"})
        result = batches.send_batch(
            ctx.book,
            options,
            transport,
            claim=o.claim,
            limit=BATCH,
            templates_near=folders,
            ledger=_ledger(ctx.config),
        )
    finally:
        transport.close()
    data = result.as_dict()
    data["summary"] = _summary(result.lines())
    progress = p.Progress(done=result.done, total=result.total, label="Sending")
    if result.status in ("claimed", "sent") and (result.claim or result.remaining):
        following = o.model_dump(exclude_none=True) | {"claim": result.claim, "retry_failed": False}
        if result.claim is None:
            following.pop("claim")
        return Outcome(data, status="more", next=following, progress=progress)
    return Outcome(data, progress=progress)


# -- import ------------------------------------------------------------------------------------

MAX_IMPORT = 20 * 1024 * 1024


class ImportOptions(Options):
    file_name: str = Field(min_length=1, max_length=255)
    data: str = Field(max_length=MAX_IMPORT * 4 // 3 + 4)
    table: Literal["customers", "deals", "products", "interactions", "tickets"] = "customers"
    dry_run: bool = False


def _import_run(ctx: Context) -> Outcome:
    from ..importing import import_file

    o = ctx.options
    suffix = Path(o.file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".vcf", ".json", ".txt"):
        raise UsageError(
            o.file_name, "xlcrm imports .csv, .xlsx, .xlsm, .vcf and .json files", None
        )
    try:
        content = base64.b64decode(o.data, validate=True)
    except binascii.Error:
        raise UsageError(o.file_name, "the file did not arrive intact", "choose it again") from None
    with tempfile.TemporaryDirectory(prefix="xlcrm-import-") as tmp:
        path = Path(tmp) / ("upload" + suffix)
        path.write_bytes(content)
        report = import_file(ctx.book, o.table, path, dry_run=o.dry_run)
    report.source = o.file_name
    if o.dry_run:
        ctx.book.discard()
    problems = [str(problem) for problem in report.problems]
    return Outcome(
        {
            "summary": report.summary(),
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "problems": problems,
            "dry_run": o.dry_run,
        }
    )


def _import_needs(options: ImportOptions) -> Needs:
    return {options.table: ALL, "settings": ALL}


# -- settings and secrets ----------------------------------------------------------------------

SECRET_KEYS = ("mailbox", "support_mailbox", "transport")


class SettingsOptions(Options):
    step: Literal["get", "put"] = "get"
    values: dict[str, str] = Field(default_factory=dict, max_length=200)


def _settings_run(ctx: Context) -> Outcome:
    if ctx.options.step == "put":
        for key, value in ctx.options.values.items():
            if "password" in key.lower() or "secret" in key.lower():
                raise UsageError(
                    key, "passwords never go into the workbook", "use the password field instead"
                )
            _refuse_secret_in_url(key, value)
        # The Settings table or rows the workbook lacks, as ``xlcrm init`` adds them.
        from ..init import InitOptions, add_crm

        add_crm(ctx.book, InitOptions(tables=("settings",)))
        write_settings(ctx.book, ctx.options.values)
    settings = read_settings(ctx.book)
    lang = ctx.book.lang
    rows = [
        {
            "key": s.key,
            "label": s.label(lang),
            "value": settings.get(s.key, ""),
            "help": s.help(lang),
            "kind": s.kind,
        }
        for s in KNOWN
    ]
    secrets = {}
    for key in SECRET_KEYS:
        url = settings.text(key)
        if url and url.split(":", 1)[0].lower() not in LOCAL_SCHEMES:
            secrets[url] = _has_secret(ctx.config, url)
    return Outcome(
        {
            "settings": rows,
            "secrets": secrets,
            "summary": "settings saved" if ctx.options.step == "put" else "",
        }
    )


def _has_secret(config: ServiceConfig, url: str) -> bool:
    """Whether the service would have a password for ``url``: a keyring entry for exactly it,
    or ``XLCRM_PASSWORD`` when the service was started with this URL."""
    from sync.secrets import PASSWORD_VARIABLE

    try:
        key = mailbox_key(url)
    except MailboxError:
        return False
    if from_keyring(url) is not None:
        return True
    return key in configured(config) and bool(os.environ.get(PASSWORD_VARIABLE))


def _refuse_secret_in_url(key: str, value: str) -> None:
    scheme, _, rest = value.partition("://")
    userinfo = rest.split("/", 1)[0].rpartition("@")[0]
    if scheme and ":" in userinfo:
        raise UsageError(
            key,
            "the URL holds a password, which would be saved in the workbook",
            "remove ':password' from the URL and use the password field instead",
        )


class SecretOptions(Options):
    url: str = Field(min_length=3, max_length=2000)
    secret: str = Field(min_length=1, max_length=10_000)


def _secret_run(ctx: Context) -> Outcome:
    """Keep the password in the service's keyring for exactly this URL: from then on the
    service may open that mailbox (and only with this password; docs/secrets.md)."""
    from sync.secrets import store

    try:
        store(ctx.options.url, ctx.options.secret)
    except MailboxError as exc:
        raise XlcrmError("xlcrm service", exc.message, exc.hint) from None
    return Outcome({"stored": True, "summary": "password stored by the xlcrm service"})


# -- workflows ---------------------------------------------------------------------------------


class DedupeOptions(Options):
    apply: bool = False


def _dedupe_run(ctx: Context) -> Outcome:
    from ..dedupe.run import DedupeOptions as Library
    from ..dedupe.run import dedupe_customers

    report = dedupe_customers(ctx.book, Library(apply=ctx.options.apply))
    return Outcome({**report.as_dict(), "summary": _summary(report.lines())})


def _dedupe_needs(_: DedupeOptions) -> Needs:
    return {
        "customers": ALL,
        "duplicates": ALL,
        "settings": ALL,
        # Merging points their rows at the surviving customer (and logs each merge as a
        # new interaction): the customer column is all it reads or writes of them.
        "deals": ["customer_id"],
        "interactions": ["customer_id"],
        "tickets": ["customer_id"],
        "sends": ALL,
    }


class NoOptions(Options):
    pass


def _report_run(ctx: Context) -> Outcome:
    from ..report.run import refresh_report

    summary = refresh_report(ctx.book, today=dt.date.today())
    return Outcome({**summary.as_dict(), "summary": _summary(summary.lines())})


def _reminders_run(ctx: Context) -> Outcome:
    from ..pipeline.reminders import make_reminders, reminders_sheet
    from ..team import read_team

    today = dt.date.today()
    settings = read_settings(ctx.book)
    reminders = make_reminders(
        ctx.book, today, settings=settings, team=read_team(ctx.book, settings)
    )
    sheet = reminders_sheet(reminders, ctx.book.lang, today)
    ctx.book.put_sheet(sheet)
    return Outcome(
        {
            "reminders": len(reminders),
            "sheet": sheet.name,
            "summary": f"{len(reminders)} reminder(s) on the {sheet.name} sheet",
        }
    )


# -- rules -------------------------------------------------------------------------------------

# What Run rules reads of Interactions: the stage history (kind, deal, subject, time) and the
# Message-IDs that record which rule fired for which deal. Summaries, senders and bodies of
# 300,000 interactions stay in Excel.
RULES_INTERACTION_COLUMNS = ["kind", "deal_id", "customer_id", "subject", "at", "message_id"]


def _rules_needs(_: Any) -> Needs:
    return {
        "rules": ALL,
        "deals": ALL,  # follow-up dates, contract number and file, closed dates are written
        "customers": ALL,  # the contract's and the notices' customer details
        "products": ALL,
        "settings": ALL,
        "stages": ALL,
        "interactions": RULES_INTERACTION_COLUMNS,
    }


def _rules_run(ctx: Context) -> Outcome:
    """``xlcrm run`` on the posted workbook. Stage history, follow-ups and the contracts'
    cells become the answer's actions; the contracts themselves are downloads. Notices are
    never sent from here — a dry run that names them (docs/rules.md, "From the ribbon"):
    sending exactly once needs the journal beside the workbook file, which only
    ``xlcrm run BOOK --send`` has."""
    from ..pipeline.run import RunOptions, run_rules
    from ..pipeline.sinks import DownloadSink

    sink = DownloadSink()
    options = RunOptions(contracts=sink, templates_near=_template_folders(ctx))
    report = run_rules(ctx.book, options)
    sink.deliver(ctx.book)
    notices = report.would_send
    lines = report.lines()
    if notices:
        lines.append(
            f"{len(notices)} notice(s) would go; e-mail is not sent from Excel: "
            "run xlcrm run BOOK --send on the workbook file (or on a schedule) to send them"
        )
    return Outcome(
        {
            **report.as_dict(),
            "summary": _summary(lines),
            "stage_changes": len(report.changes),
            "follow_ups": sum(1 for f in report.having("done") if f.action == "follow_up"),
            "contracts": report.contracts,
            "would_send": [
                {"rule": f.rule, "deal_id": f.deal_id, "action": f.action, "detail": f.detail}
                for f in notices
            ],
            "waiting_count": len(report.waiting),
        }
    )


# What the dashboard and the reminders read of the big tables (a name a table lacks is simply
# not read): notes, phones, subjects and summaries stay in Excel, so a workbook of 20,000
# customers fits the request limits (docs/security.md). tests/test_service_reads.py holds
# each command to the answer it gives with whole tables.
OVERVIEW_COLUMNS = [
    *("name", "company", "email", "owner", "region", "segment", "tier", "status"),
    *("last_contact", "merged_into", "created", "title", "customer_id", "deal_id", "stage"),
    *("amount", "currency", "probability", "product", "closed", "next_follow_up", "kind"),
    *("direction", "at", "message_id", "subject", "type", "opened", "due", "resolved"),
    "satisfaction",
]


def _overview(_: Any) -> Needs:
    return {
        "customers": OVERVIEW_COLUMNS,
        "deals": OVERVIEW_COLUMNS,
        "interactions": [c for c in OVERVIEW_COLUMNS if c != "subject"],
        "tickets": OVERVIEW_COLUMNS,
        "sends": ALL,  # few and narrow
        "settings": ALL,
        "stages": ALL,
        "products": ALL,
    }


def _nothing(_: Any) -> Needs:
    return {}


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("sync", "Sync mail", "同步邮件", SyncOptions, _sync_needs, _sync_run),
        Command(
            "contract",
            "Generate contract",
            "生成合同",
            ContractOptions,
            lambda _: {
                "deals": ALL,
                "customers": ALL,
                "products": ALL,
                "settings": ALL,
                "interactions": ["id"],
            },
            _contract_run,
            needs_selection=True,
        ),
        Command(
            "campaign",
            "Campaign",
            "营销活动",
            CampaignOptions,
            _campaign_needs,
            _campaign_run,
            max_cells=900_000,  # 20,000 customers: every recipient's message is checked
        ),
        Command("import", "Import", "导入", ImportOptions, _import_needs, _import_run),
        Command(
            "settings",
            "Settings",
            "设置",
            SettingsOptions,
            lambda _: {"settings": ALL},
            _settings_run,
        ),
        Command("secret", "Password", "密码", SecretOptions, _nothing, _secret_run),
        Command(
            "dedupe",
            "Clean duplicates",
            "客户去重",
            DedupeOptions,
            _dedupe_needs,
            _dedupe_run,
            max_cells=1_300_000,
        ),
        # Cell budgets measured with bench/bench_service_memory.py --commands (bench/README.md).
        Command(
            "report", "Dashboard", "仪表盘", NoOptions, _overview, _report_run, max_cells=1_300_000
        ),
        Command(
            "reminders",
            "Reminders",
            "跟进提醒",
            NoOptions,
            _overview,
            _reminders_run,
            max_cells=1_600_000,
        ),
        Command(
            "rules",
            "Run rules",
            "运行规则",
            NoOptions,
            _rules_needs,
            _rules_run,
            max_cells=1_300_000,
        ),
    )
}
