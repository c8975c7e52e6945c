"""What a campaign run did, for the command line (text or ``--json``) and the ribbon."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..templating import Problem

LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


@dataclass
class Failure:
    customer_id: str
    email: str
    error: str


@dataclass
class CampaignReport:
    campaign: str
    mode: str  # preview, send, drafts, test
    template: str
    selected: int = 0
    ready: int = 0  # rendered without problems and not yet sent
    sent: int = 0
    drafts: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # this run, by reason
    languages: Counter[str] = field(default_factory=Counter)  # recipients checked, by language
    already: Counter[str] = field(default_factory=Counter)  # earlier runs, by status
    failed: list[Failure] = field(default_factory=list)
    uncertain: list[Failure] = field(default_factory=list)
    recovered: int = 0  # interrupted sends found in the sent items
    retry_later: int = 0  # temporary failures left queued for the next run
    remaining: int = 0  # queued, not sent because the run stopped
    stopped: str | None = None
    problems: list[Problem] = field(default_factory=list)
    preview_files: list[Path] = field(default_factory=list)
    preview_index: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "mode": self.mode,
            "template": self.template,
            "selected": self.selected,
            "ready": self.ready,
            "sent": self.sent,
            "drafts": self.drafts,
            "skipped": dict(self.skipped),
            "languages": dict(self.languages),
            "already": dict(self.already),
            "failed": [vars(f) for f in self.failed],
            "uncertain": [vars(f) for f in self.uncertain],
            "recovered": self.recovered,
            "retry_later": self.retry_later,
            "remaining": self.remaining,
            "stopped": self.stopped,
            "problems": [str(p) for p in self.problems],
            "preview_files": [str(p) for p in self.preview_files],
            "preview_index": str(self.preview_index) if self.preview_index else None,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        """The summary a person reads after a run."""
        out = [
            f"campaign {self.campaign!r} ({self.template}): {self.selected} customer(s) selected"
        ]
        if self.already:
            done = ", ".join(f"{n} {status}" for status, n in sorted(self.already.items()))
            out.append(f"  from earlier runs: {done}")
        if self.mode == "preview":
            out.append(f"  would send {self.ready} message(s); nothing was sent (preview)")
        elif self.mode == "test":
            out.append("  sent one test message; the Sends table is unchanged")
        else:
            if self.sent:
                out.append(f"  sent {self.sent} message(s)")
            if self.drafts:
                out.append(f"  saved {self.drafts} draft(s) for review")
            if self.recovered:
                out.append(f"  {self.recovered} interrupted send(s) found in the sent items")
        if len(self.languages) > 1:  # each customer in their language: say how many of each
            shown = ", ".join(
                f"{LANGUAGE_NAMES.get(k, k)} {n}" for k, n in sorted(self.languages.items())
            )
            out.append(f"  in the customers' languages: {shown}")
        for reason, n in sorted(self.skipped.items()):
            out.append(f"  skipped {n}: {reason}")
        for failure in self.failed[:20]:
            out.append(f"  failed {failure.customer_id} <{failure.email}>: {failure.error}")
        if len(self.failed) > 20:
            out.append(f"  … and {len(self.failed) - 20} more failures (see the Sends table)")
        for item in self.uncertain:
            out.append(
                f"  uncertain {item.customer_id} <{item.email}>: {item.error}",
            )
        if self.retry_later:
            out.append(f"  {self.retry_later} temporary failure(s) left queued for the next run")
        if self.problems:
            out.append(f"  {len(self.problems)} problem(s):")
            out.extend(f"    {p}" for p in self.problems[:50])
            if len(self.problems) > 50:
                out.append(f"    … and {len(self.problems) - 50} more")
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        if self.remaining:
            out.append(f"  {self.remaining} message(s) still queued; run again to continue")
        if self.preview_index:
            out.append(f"  preview: {self.preview_index} ({len(self.preview_files)} .eml file(s))")
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out
