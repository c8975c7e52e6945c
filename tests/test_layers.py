"""The layers of the code, enforced: dependencies point one way (docs/architecture.md).

Every ``import`` statement in ``addin`` and ``sync`` counts — at the top of a module, inside a
function (the late imports that hide a cycle from Python but not from a reader), and under
``TYPE_CHECKING`` — read from the source with :mod:`ast`, so nothing is imported to check.

The layers of ``addin``, lowest first; a module may import its own layer's and lower layers'
modules, never a higher one's:

0. errors and the schema;
1. the workbook (the Table API over its backends);
2. the shared core that every feature uses;
3. the features (one workflow each); a feature uses another only along the edges listed in
   :data:`FEATURE_EDGES`, so that they stay a tree a reader can follow;
4. the shells: the command line, the service, the task pane's remote book, desktop Excel,
   the demo, the Office add-in's files.

``sync`` (mailboxes) is below all of it and never imports ``addin``. Inside ``sync``, the
backends never import one another (what they share lives in ``sync`` itself), and only
``sync.open`` picks one.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("errors and schema", frozenset({"errors", "schema", "currency", "outcome", "textwidth"})),
    ("workbook", frozenset({"workbook"})),
    (
        "shared core",
        frozenset(
            {
                "settings",
                "team",
                "contact",
                "customers",
                "query",
                "templating",
                "filenames",
                "domains",
                "unsubscribe",
                "journal",
                "outbox",  # one sender's rules for campaigns, batches and notices (issue 16)
            }
        ),
    ),
    (
        "features",
        frozenset(
            {
                "campaigns",
                "contracts",
                "dedupe",
                "exporting",
                "importing",
                "init",
                "mailsync",
                "notify",
                "pipeline",
                "report",
                "tickets",
            }
        ),
    ),
    (
        "shells",
        frozenset({"cli", "service", "remote", "desktop", "demo", "officeaddin", "__main__"}),
    ),
)
FEATURES = LAYERS[3][1]

# The only places one feature uses another, each for a reason a reader can see.
FEATURE_EDGES = frozenset(
    {
        ("init", "pipeline"),  # a new workbook's stages and example rules
        ("init", "tickets"),  # …and its ticket rules and service levels
        ("pipeline", "contracts"),  # the contract rule makes the contract
        ("pipeline", "notify"),  # rules and reminders mail the owner
        ("tickets", "notify"),  # escalations mail the team lead
        ("mailsync", "tickets"),  # sync opens tickets from support mail
        ("report", "pipeline"),  # the dashboard's forecast reads the stages
    }
)

SYNC_BASE = frozenset({"errors", "mailbox", "message", "utf7", "secrets", "net"})
SYNC_BACKENDS = frozenset({"local", "imap", "ews", "graph", "smtp"})
SYNC_SHELL = frozenset({"open"})


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every module ``source`` imports, wherever the statement is, as absolute names.

    ``from .x import y`` counts as both ``pkg.x`` and ``pkg.x.y`` (``y`` may be a module);
    :func:`import_graph` keeps the names that are modules, and ``pkg.x`` itself only when
    something other than a submodule is taken from it.
    """
    return {name for target, names in _statements(source, module, is_package) for name in names}


def _statements(source: str, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """(target, [target, target.name…]) per import statement."""
    found: list[tuple[str, list[str]]] = []
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, [alias.name]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, [target, *(f"{target}.{a.name}" for a in node.names)]))
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the project's modules it imports (``addin`` and ``sync`` only)."""
    sources = {}
    for package in ("addin", "sync"):
        for path in (root / package).rglob("*.py"):
            sources[module_name(path, root)] = path
    graph: dict[str, set[str]] = {}
    for name, path in sources.items():
        statements = _statements(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
        targets: set[str] = set()
        for target, names in statements:
            submodules = [n for n in names[1:] if n in sources]
            if len(submodules) < len(names) - 1 or len(names) == 1:
                targets.add(target)  # a name that is no submodule: the module itself runs
            targets.update(submodules)
        graph[name] = {n for n in targets if n in sources and n != name}
    return graph


@functools.cache
def project_graph() -> dict[str, set[str]]:
    """:func:`import_graph` of this checkout, parsed once per run rather than once per test
    (the sources do not change during a run, and the tests only read it)."""
    return import_graph()


def unit(module: str) -> str:
    """The package or top-level module a module belongs to: ``addin.campaigns``, ``sync.imap``."""
    return ".".join(module.split(".")[:2])


def layer_of(module: str) -> int | None:
    top = module.split(".")[1] if module.count(".") else ""
    for index, (_, members) in enumerate(LAYERS):
        if top in members:
            return index
    return None


def _edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() for b in targets)


def test_the_walker_counts_imports_inside_functions_and_type_checking() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        from .errors import XlcrmError
        if TYPE_CHECKING:
            from ..workbook import Book
        def late():
            from ..pipeline.history import parse_stage_subject
            import addin.demo.state
        """
    )
    found = imports_of(source, "addin.notify.send", is_package=False)
    assert {"addin.notify.errors", "addin.workbook", "addin.pipeline.history"} <= found
    assert "addin.pipeline.history.parse_stage_subject" in found
    assert "addin.demo.state" in found
    package = imports_of("from . import run\n", "addin.campaigns", is_package=True)
    assert "addin.campaigns.run" in package


def test_every_module_of_addin_has_a_layer() -> None:
    graph = project_graph()
    loose = sorted({unit(m) for m in graph if m.startswith("addin.") and layer_of(m) is None})
    assert loose == [], f"put these in a layer of tests/test_layers.py: {loose}"


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for a, b in _edges(project_graph()):
        if not (a.startswith("addin.") and b.startswith("addin.")):
            continue
        la, lb = layer_of(a), layer_of(b)
        if la is not None and lb is not None and lb > la:
            wrong.append(f"{a} ({LAYERS[la][0]}) imports {b} ({LAYERS[lb][0]})")
    assert wrong == []


def test_features_use_one_another_only_along_the_listed_edges() -> None:
    wrong = []
    for a, b in _edges(project_graph()):
        ua, ub = (unit(m).split(".")[-1] for m in (a, b))
        feature_edge = a.startswith("addin.") and ua in FEATURES and ub in FEATURES and ua != ub
        if feature_edge and (ua, ub) not in FEATURE_EDGES:
            wrong.append(f"{a} imports {b}")
    assert wrong == [], "move what they share to the core, or list the edge with its reason"


def test_no_import_cycle_between_packages() -> None:
    """Counting late imports too; Tarjan's strongly connected components of the package graph."""
    units: dict[str, set[str]] = defaultdict(set)
    for a, b in _edges(project_graph()):
        if unit(a) != unit(b):
            units[unit(a)].add(unit(b))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in units.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(units):
        if v not in index:
            visit(v)
    assert cycles == []


def test_sync_never_imports_addin() -> None:
    wrong = [f"{a} imports {b}" for a, b in _edges(project_graph()) if a.startswith("sync")]
    wrong = [w for w in wrong if " imports addin" in w]
    assert wrong == []


def test_sync_backends_do_not_borrow_from_one_another() -> None:
    wrong = []
    for a, b in _edges(project_graph()):
        if not (a.startswith("sync.") and b.startswith("sync.")) or unit(a) == unit(b):
            continue
        ua, ub = unit(a).split(".")[1], unit(b).split(".")[1]
        backend = ub in SYNC_BACKENDS and ua not in SYNC_SHELL
        if backend or (ua in SYNC_BASE and ub not in SYNC_BASE):
            wrong.append(f"{a} imports {b}")
    assert wrong == []


@pytest.mark.parametrize("package", ["addin", "sync"])
def test_no_module_imports_another_packages_private_module(package: str) -> None:
    wrong = []
    for a, b in _edges(project_graph()):
        if not a.startswith(package):
            continue
        private = [p for p in b.split(".") if p.startswith("_") and not p.startswith("__")]
        if private and b.rsplit(".", 1)[0] != a.rsplit(".", 1)[0]:
            owner = b[: b.index(private[0])].rstrip(".")
            if not a.startswith(owner + "."):
                wrong.append(f"{a} imports {b}")
    assert wrong == []


def test_only_the_shells_use_the_front_door() -> None:
    """``addin/__init__.py`` names every workflow: a library module importing it would
    import them all (and close a cycle); the shells may (for ``__version__``)."""
    shells = LAYERS[-1][1]
    wrong = [
        a
        for a, b in _edges(project_graph())
        if b == "addin" and a.startswith("addin.") and a.split(".")[1] not in shells
    ]
    assert wrong == []
