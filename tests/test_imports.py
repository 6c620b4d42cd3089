"""Imports point one way: every import in callerid/, imports inside functions included, read
with ``ast``; each direct child of callerid/ (module or package) is one node of the graph.

Two subjects that import each other (even through others) fail with the cycle printed, and so
does an import of an entrypoint (the app factory in callerid/__init__.py, or callerid/cli):
they may import anything, so anything that imports them back closes a cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "callerid"
FACTORY = "__init__"
ENTRYPOINTS = {FACTORY, "cli"}


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[tuple[str, int]]:
    """Every name ``path`` imports, absolute and dotted (``callerid.db.utcnow``), with its line."""
    name = _dotted(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield from ((f"{module}.{alias.name}", node.lineno) for alias in node.names)


def _node(dotted: str) -> str | None:
    """The child of callerid/ that ``dotted`` names; the factory for names defined in
    callerid/__init__.py itself; None outside callerid."""
    parts = dotted.split(".")
    if parts[0] != "callerid":
        return None
    if len(parts) > 1 and ((PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file()):
        return parts[1]
    return FACTORY


@cache  # the tree does not change during a run; reading it takes most of a second
def _edges() -> dict[str, dict[str, str]]:
    """node -> {imported node: where, as "file:line name"}."""
    edges: dict[str, dict[str, str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _node(_dotted(path))
        assert source is not None
        for dotted, line in _imported(path):
            target = _node(dotted)
            if target is not None and target != source:
                where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {dotted}"
                edges.setdefault(source, {}).setdefault(target, where)
    return edges


def _cycle(edges: dict[str, dict[str, str]]) -> list[str] | None:
    """One cycle of the graph as its nodes in order (the first repeated at the end), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(edges.get(node, {})):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(edges):
        found = visit(start, [])
        if found:
            return found
    return None


def test_the_import_reader_sees_relative_imports_inside_functions() -> None:
    # manage/__init__.py imports the missed-calls service inside a function, two dots up.
    assert "history" in _edges()["manage"]


def test_no_subject_imports_an_entrypoint() -> None:
    edges = _edges()
    back = [
        edges[source][entry]
        for source in sorted(edges)
        if source not in ENTRYPOINTS
        for entry in ENTRYPOINTS
        if entry in edges[source]
    ]
    assert back == [], "entrypoints import everything; nothing may import them:\n" + "\n".join(back)


def test_subjects_import_each_other_in_one_direction_only() -> None:
    edges = _edges()
    cycle = _cycle(edges)
    assert cycle is None, (
        "import cycle "
        + " -> ".join(cycle)
        + ":\n"
        + "\n".join(edges[a][b] for a, b in zip(cycle, cycle[1:], strict=False))
    )
