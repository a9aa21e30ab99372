"""Imports point down only: core ← nlu, voice, data ← handlers ← bot (see ../shared/ARCHITECTURE.md),
and no two modules import each other at load time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "nlu", "voice", "data", "handlers", "bot")
# What each package may import besides itself (handlers take only understanding's result types).
ALLOWED: dict[str, tuple[str, ...]] = {
    "core": (),
    "nlu": ("core",),
    "voice": ("core",),
    "data": ("core",),
    "handlers": ("core", "data", "nlu.types"),
    "bot": ("core", "nlu", "voice", "data", "handlers"),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, *, load_time_only: bool) -> set[str]:
    """Lianhu modules a file imports (only those run when it loads, with `load_time_only`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[ast.AST] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and load_time_only:
                continue
            if isinstance(child, ast.If) and load_time_only and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                nodes.append(child)
            visit(child, top)

    visit(tree, True)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in found if n.split(".")[0] in PACKAGES}


def allowed(source: str, target: str) -> bool:
    package = source.split(".")[0]
    if target.split(".")[0] == package:
        return True
    return any(target == a or target.startswith(a + ".") for a in ALLOWED[package])


def test_no_import_points_up() -> None:
    known = modules()
    upward = []
    for name, path in sorted(known.items()):
        for target in sorted(imports(path, load_time_only=False)):
            # `from pkg import name` also lists pkg.name; only modules and packages count
            if target not in known and target.rpartition(".")[0] in known:
                target = target.rpartition(".")[0]
            if not allowed(name, target):
                upward.append(f"{name} imports {target}")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(upward)


def test_no_circular_imports_at_load_time() -> None:
    known = modules()
    graph = {
        name: {t if t in known else t.rpartition(".")[0] for t in imports(path, load_time_only=True)}
        & set(known)
        for name, path in known.items()
    }
    for name in graph:
        graph[name].discard(name)
    cycles = []
    state: dict[str, int] = {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1 and not _package_init(nxt, node):
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "circular imports:\n" + "\n".join(cycles)


def _package_init(package: str, module: str) -> bool:
    """A package's __init__ importing its own submodules (a registry) is not a cycle."""
    return module.startswith(package + ".")


def test_the_walker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from bot.app import App\n\ndef f():\n    import handlers.base\n", encoding="utf-8")
    assert imports(bad, load_time_only=False) == {"bot.app", "bot.app.App", "handlers.base"}
    assert imports(bad, load_time_only=True) == {"bot.app", "bot.app.App"}
    assert not allowed("data.services.tickets", "bot.app")
    assert allowed("handlers.report", "nlu.types") and not allowed("handlers.report", "nlu.parser")
