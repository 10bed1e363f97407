"""The shape of the code, checked: no import circles, small modules, every package says what it is for, a short map.

The import graph is read from the source with ``ast`` (not by importing), and counts every import: at module level,
inside functions and under ``if TYPE_CHECKING:``. ``from X import name`` is an edge to ``X.name`` when that is a
module, else to ``X``; a package's own ``__init__`` is not an edge of its submodules (Python runs it first anyway).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 600
MAX_MAP_CHARS = 12_000


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[0] == "backends":  # installed as dwarfkit.backends
        parts = ["dwarfkit", "backends", *parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    files = [*(REPO / "dwarfkit").rglob("*.py"), *(REPO / "backends").rglob("*.py")]
    return {module_name(p): p for p in sorted(files)}


def import_graph() -> dict[str, set[str]]:
    modules = source_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    found = cycles(import_graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_module_is_over_600_lines():
    long = {name: n for name, path in source_files().items()
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_every_package_says_what_it_is_for():
    packages = [p for name, p in source_files().items() if p.name == "__init__.py"]
    assert len(packages) >= 8
    for path in packages:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert len(doc) >= 200, f"{path.relative_to(REPO)}: the package docstring is missing or too short"
        assert "import" in doc.lower(), f"{path.relative_to(REPO)}: the docstring does not say what it may import"


@pytest.mark.parametrize("check", ["size", "packages"])
def test_architecture_map_is_short_and_names_every_package(check):
    text = (REPO / "ARCHITECTURE.md").read_text()
    if check == "size":
        assert len(text) <= MAX_MAP_CHARS, f"ARCHITECTURE.md has {len(text)} characters"
        return
    for path in source_files().values():
        if path.name == "__init__.py":
            folder = str(path.parent.relative_to(REPO))
            assert f"{folder}/" in text or f"`{folder}`" in text, f"ARCHITECTURE.md does not name {folder}/"
