"""The house rules of the package layout, checked by walking the source with ``ast``.

Every ``import`` in ``src/dhcpbridge`` counts, wherever it stands: at module level, inside a
function (a lazy import is still a dependency) and under ``if TYPE_CHECKING:`` (a type from an
outer layer is a dependency on that layer, and a cycle closed only for the type checker is still a
cycle in the design: put the shared type, e.g. a Protocol, in the inner module instead). Set
``TYPE_CHECKING_CLOSES_CYCLES`` to False to let such imports close cycles.

Rules:

- ``dhcpbridge.wire`` imports nothing of dhcpbridge outside ``wire``;
- ``dhcpbridge.engine`` imports only ``wire`` and ``engine``;
- ``dhcpbridge.io`` imports only ``wire``, ``io`` and ``dhcpbridge.engine.records``;
- ``dhcpbridge.engine`` does not import ``socket`` (addresses are ints; ``wire`` converts them);
- ``dhcpbridge.server`` and ``dhcpbridge.pool_metrics`` do not import ``dhcpbridge.api`` (the API
  is one front end of the server, not a part of it);
- no import cycles between modules;
- no module longer than 600 lines (generated tables may be listed in ``GENERATED`` with a reason).

Each failure lists every violation with the module, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "dhcpbridge"
MAX_LINES = 600
# Generated tables that may be longer than MAX_LINES: {"dhcpbridge.module": "why"}. None today.
GENERATED: dict[str, str] = {}
TYPE_CHECKING_CLOSES_CYCLES = True


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the dhcpbridge module imported (the deepest module the statement names)
    type_only: bool  # under ``if TYPE_CHECKING:``
    statement: str

    def __str__(self) -> str:
        kind = " (under TYPE_CHECKING)" if self.type_only else ""
        return f"{self.module}:{self.line} imports {self.target}: {self.statement}{kind}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    return {_module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(name: str) -> str:
    """The deepest existing module that ``name`` names (``a.b.func`` -> ``a.b``)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``tree``, with whether it only runs for the type checker."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _statements(ast.Module(body=[child], type_ignores=[]), True)
            for child in node.orelse:
                yield from _statements(ast.Module(body=[child], type_ignores=[]), type_only)
        else:
            yield from _statements(node, type_only)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        package = module if _is_package(module) else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    for alias in node.names:
        yield f"{base}.{alias.name}"


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a dhcpbridge module by a dhcpbridge module."""
    found: dict[Import, None] = {}  # one entry per statement and target, in source order
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, type_only in _statements(tree):
            for name in _targets(module, node):
                if name == PACKAGE or name.startswith(PACKAGE + "."):
                    target = _resolve(name)
                    if target and target != module:
                        found[Import(module, node.lineno, target, type_only, ast.unparse(node))] = None
    return tuple(found)


def _inside(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _layer_violations(layer: str, allowed: tuple[str, ...]) -> list[str]:
    return [
        str(imp)
        for imp in imports()
        if _inside(imp.module, layer)
        and not _inside(imp.target, *allowed)
        # the package itself (``dhcpbridge/__init__``) is a parent that every import loads anyway
        and imp.target != PACKAGE
    ]


def _no_violations(found: list[str]) -> None:
    assert not found, f"{len(found)} violation(s):\n" + "\n".join(found)


def test_the_scan_sees_the_package() -> None:
    assert {"dhcpbridge.wire", "dhcpbridge.engine", "dhcpbridge.io"} <= set(modules())
    assert any(imp.module.startswith("dhcpbridge.engine") for imp in imports())


def test_wire_imports_only_wire() -> None:
    _no_violations(_layer_violations("dhcpbridge.wire", ("dhcpbridge.wire",)))


def test_engine_imports_only_wire_and_engine() -> None:
    _no_violations(_layer_violations("dhcpbridge.engine", ("dhcpbridge.wire", "dhcpbridge.engine")))


def test_io_imports_only_wire_and_engine_records() -> None:
    allowed = ("dhcpbridge.wire", "dhcpbridge.io", "dhcpbridge.engine.records")
    _no_violations(_layer_violations("dhcpbridge.io", allowed))


def test_engine_does_not_import_socket() -> None:
    _no_violations(_outside_imports("dhcpbridge.engine", "socket"))


def test_server_does_not_import_api() -> None:
    for layer in ("dhcpbridge.server", "dhcpbridge.pool_metrics"):
        _no_violations(
            [
                str(imp)
                for imp in imports()
                if _inside(imp.module, layer) and _inside(imp.target, "dhcpbridge.api")
            ]
        )


def _outside_imports(layer: str, banned: str) -> list[str]:
    """Each import of the module ``banned`` (outside the package, e.g. the standard library's)
    by a module of ``layer``."""
    found = []
    for module, path in modules().items():
        if not _inside(module, layer):
            continue
        for node, _type_only in _statements(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(_inside(name, banned) for name in names):
                found.append(f"{module}:{node.lineno} imports {banned}: {ast.unparse(node)}")
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def import_cycles() -> list[str]:
    """Each cycle as its modules and the imports that close it."""
    runtime = [imp for imp in imports() if TYPE_CHECKING_CLOSES_CYCLES or not imp.type_only]
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in runtime:
        edges[imp.module].add(imp.target)
    out = []
    for component in _cycles(edges):
        members = set(component)
        inside = sorted({str(i) for i in runtime if i.module in members and i.target in members})
        out.append(f"cycle {' <-> '.join(component)}: " + "; ".join(inside))
    return out


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    _no_violations(import_cycles())


def test_no_module_over_600_lines() -> None:
    too_long = []
    for name, path in modules().items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and name not in GENERATED:
            too_long.append(f"{name}: {lines} lines")
    _no_violations(too_long)


def test_every_module_says_its_job() -> None:
    missing = [
        name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text("utf-8")))
    ]
    _no_violations([f"{name}: no module docstring" for name in missing])
