"""The package's layers import downward only, and no import circle crosses folders.

Reads every ``import`` in ``src/tamellm`` (function-level imports included: they run
too) and checks them against the layer order that docs/ARCHITECTURE.md draws.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tamellm

PACKAGE = Path(tamellm.__file__).parent

# Lowest first. A module may import its own layer's modules and any lower layer's.
LAYERS: list[set[str]] = [
    {"errors"},
    {"paths", "results", "inputs", "batching", "registry", "progress", "metrics", "run_folders", "logs",
     "languages", "threads"},  # languages: which language a text is in, its words (jieba for Chinese)
    {"data", "media"},  # media: the text in images (OCR), PDFs and audio (Whisper), with provenance
    {"models"},
    {"explanations"},  # attribution methods over a model's functions: below the task models that use them
    {"tasks"},  # TaskSpec, TaskModel classes, load, backends
    {"config"},  # validates task names against the task registry
    {"training", "evaluation", "robust"},  # robust: perturbation tests and attack (training augments with them)
    {"compression", "reports"},
    {"tuning", "advice"},  # advice: reads run folders and compression results, measures catalog models
    {"api"},  # the public API: every function a user calls
    {"apps"},  # ready applications, built on the public API
    {"ui"},  # the web page's assets and views
    {"serving"},  # the HTTP service over the API, the applications and the web page
    {"cli", "__init__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module -> the tamellm modules it imports (``from a import b`` counts ``a.b`` when that is a module)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        source = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tamellm"):
                edges[source].add(node.module)
                for alias in node.names:
                    candidate = PACKAGE.parent / f"{node.module}.{alias.name}".replace(".", "/")
                    if candidate.with_suffix(".py").exists() or candidate.is_dir():
                        edges[source].add(f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                edges[source].update(a.name for a in node.names if a.name.startswith("tamellm"))
    return edges


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_module_has_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert tops - set(RANK) == set(), "add the new module to LAYERS (and to docs/ARCHITECTURE.md)"


def test_no_import_runs_from_a_lower_layer_up():
    upward = sorted(f"{source} -> {target}" for source, targets in _imports().items() for target in targets
                    if RANK[_layer(target)] > RANK[_layer(source)])
    assert upward == []


def test_no_import_circle_crosses_folders():
    """Strongly connected components of the module graph stay inside one top-level folder."""
    edges = _imports()
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    crossing = [sorted(c) for c in components if len({_layer(m) for m in c}) > 1]
    assert crossing == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """The graph reader finds function-level imports (the kind that hid upward calls)."""
    edges = _imports()
    assert "tamellm.tasks.loading" in edges["tamellm.api"] or "tamellm.tasks" in edges["tamellm.api"]
    assert any(t.startswith("tamellm.explanations") for t in edges["tamellm.tasks.base"])  # inside TaskModel.explain
