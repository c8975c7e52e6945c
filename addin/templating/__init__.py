"""Jinja templates filled from the workbook: the sandboxed environment, filters and contexts.

Contracts (:mod:`addin.contracts`) and campaigns (:mod:`addin.campaigns`) both render through
:class:`TemplateEnvironment`, build contexts with :class:`CrmData`, and check every row with
:func:`preflight` before anything is generated or sent.
"""

from .context import Built, CrmData
from .environment import MissingField, TemplateEnvironment, collecting
from .filters import TemplateValueError, cn_upper
from .locate import TemplateFolders, builtin_root, find_template
from .preflight import Problem, TemplateProblems, preflight, render_problems
from .records import Record

__all__ = [
    "Built",
    "CrmData",
    "MissingField",
    "Problem",
    "Record",
    "TemplateEnvironment",
    "TemplateFolders",
    "TemplateProblems",
    "TemplateValueError",
    "builtin_root",
    "cn_upper",
    "collecting",
    "find_template",
    "preflight",
    "render_problems",
]
