"""Clean customer data: find duplicate customers, let a person decide, merge without loss.

- ``normalize.py`` — comparable forms of e-mail, phone, company and person names;
- ``match.py`` — blocking and scoring: candidate pairs without comparing all pairs;
- ``evidence.py`` — why a pair was proposed, in the workbook's language;
- ``review.py`` — the Duplicates sheet, kept up to date without losing decisions;
- ``merge.py`` — ``--apply``: merge marked pairs, re-point deals, interactions, tickets, sends;
- ``run.py`` — :func:`dedupe_customers`: one run, in memory (the caller saves).
"""

from .match import DEFAULT_THRESHOLD, Found, Pair, Record, find_pairs, prepare
from .report import DedupeReport
from .run import DedupeOptions, dedupe_customers, find_duplicates

__all__ = [
    "DEFAULT_THRESHOLD",
    "DedupeOptions",
    "DedupeReport",
    "Found",
    "Pair",
    "Record",
    "dedupe_customers",
    "find_duplicates",
    "find_pairs",
    "prepare",
]
