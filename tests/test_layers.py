"""Layering: no module of `generator/` imports, directly or through others, itself.

Every import counts — top-level, lazy ones inside functions, and those under
`if TYPE_CHECKING:` — because a lazy import only hides a cycle from Python, not from the
reader (docs: engine-architecture.md, "layers import only the layers below them").

`from pkg import name` is an edge to the submodule `pkg.name` when that file exists, else
to the package `pkg` itself. The implicit import of a submodule's parent packages is not
an edge: every submodule would otherwise form a cycle with its own `__init__`.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "generator"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _resolve_from(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, source: str, known: set[str], is_package: bool = False) -> set[str]:
    """The `generator` modules that module `name` (text `source`) imports anywhere."""
    tree = ast.parse(source)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve_from(node, name, is_package)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path.read_text(encoding="utf-8"), known, path.name == "__init__.py")
            for name, path in mods.items()}


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [_one_cycle(comp, edges) for comp in components]


def describe(edges: dict[str, set[str]]) -> str:
    """Each cycle, and every module of its strongly connected component."""
    lines = []
    for cycle in find_cycles(edges):
        members = next(c for c in _components(edges) if cycle[0] in c)
        lines.append(" -> ".join(cycle) + f"   (component of {len(members)}: {', '.join(members)})")
    return "\n".join(lines)


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    reach = {v: _reachable(v, edges) for v in edges}
    return [sorted({v, *(w for w in reach[v] if v in reach.get(w, ()))}) for v in edges]


def _reachable(v: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [v]
    while todo:
        for w in edges.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _one_cycle(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A concrete path start → … → start inside one strongly connected component."""
    members = set(component)
    start = component[0]
    prev = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & members):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return component


def test_the_import_graph_sees_lazy_and_type_checking_imports():
    """The collector itself: top-level, function-level, TYPE_CHECKING and relative imports."""
    known = {"generator.a", "generator.b", "generator.c", "generator.d", "generator.pkg", "generator.pkg.e"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "import generator.a\n"
        "if TYPE_CHECKING:\n    from generator.b import Thing\n"
        "def f():\n    from generator import c\n"
        "from .pkg import e, not_a_module\n"
    )
    assert imports_of("generator.x", source, known) == {
        "generator.a", "generator.b", "generator.c", "generator.pkg.e", "generator.pkg"}


def test_cycle_finder_reports_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_generator_has_no_import_cycle():
    edges = graph()
    assert find_cycles(edges) == [], "import cycles:\n" + describe(edges)


DAX_CORE = ("ast", "catalog", "doc", "errors", "formatter", "lexer", "parser", "sexp")


def test_dax_language_modules_do_not_import_spec():
    """Lexing, parsing and formatting DAX sit below the model: positions come from
    `generator.source`. (Model-wide analysis, lint and the CLI commands read a Model.)"""
    edges = graph()
    wrong = sorted((m, t) for name in DAX_CORE for m in [f"generator.dax.{name}"]
                   for t in edges[m] if t.startswith("generator.spec"))
    assert wrong == []


# The engine's layers (docs: engine-architecture.md): what each may import. The compiler
# turns DAX into a SQL skeleton with plan leaves and never sees the optimizer, a renderer or
# the runtime; the optimizer and the renderers know plans, not the compiler; only the
# runtime puts compile → optimize → render → execute together.
ENGINE_LAYERS = {
    "base": {"base"},
    "plan": {"base", "plan"},
    "compiler": {"base", "plan", "compiler"},
    "optimizer": {"base", "plan", "optimizer"},
    "render": {"base", "plan", "render"},
    "runtime": {"base", "plan", "compiler", "optimizer", "render", "runtime"},
    "app": {"base", "plan", "compiler", "optimizer", "render", "runtime", "app"},
}
ENGINE_APP = {"generator.engine", "generator.engine.visuals", "generator.engine.measure_tests",
              "generator.engine.commands"}


def engine_layer(module: str) -> str | None:
    if not (module == "generator.engine" or module.startswith("generator.engine.")):
        return None
    if module in ENGINE_APP:
        return "app"
    part = module.split(".")[2]
    return part if part in ENGINE_LAYERS else "base"


def test_engine_layers_import_only_downward():
    edges = graph()
    wrong = sorted(f"{m} ({engine_layer(m)}) imports {t} ({engine_layer(t)})"
                   for m, targets in edges.items() if engine_layer(m) is not None
                   for t in targets if engine_layer(t) is not None
                   and engine_layer(t) not in ENGINE_LAYERS[engine_layer(m)])
    assert wrong == [], "\n".join(wrong)


def test_every_engine_subpackage_is_a_known_layer():
    """A new subpackage of generator/engine must be placed in ENGINE_LAYERS, not fall into
    "base" by accident."""
    packages = {p.name for p in (ROOT / PACKAGE / "engine").iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(ENGINE_LAYERS), sorted(packages - set(ENGINE_LAYERS))
