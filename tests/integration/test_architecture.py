"""Layers run one way and no module imports itself in a circle.

The import graph of ``coopsim`` and ``mechanisms`` is read from the source with ``ast``: every
import statement counts, at module level or inside a function (a lazy import is still a
dependency), and ``from package import name`` counts as importing the module ``package.name``
where there is one. Parent packages a module's import runs on the way are not added as edges.

The layers, in the order they may import (a module imports only from its own layer or those
before it):

1. configuration: pure data (``coopsim.config``) and the vocabulary it is written in
   (``coopsim.schema``, ``mechanisms.params``), with the helpers that import nothing
   (``coopsim.paths``, the package's version);
2. building, in three layers of its own:

   a. worlds: ``mechanisms``, the worlds (``coopsim.envs``) and the measures of their outcomes
      (``coopsim.metrics``, ``coopsim.measures``, ``coopsim.intervals``);
   b. agents: the policies and the planner (``coopsim.agents``), which act in worlds;
   c. builder: ``coopsim.scenario``, which checks a scenario against the registries of both,
      and the builder that makes a scenario's pieces;
3. execution: rollout storage, the planner's credit, training and evaluation, and the adapters
   that drive a built world for other libraries (``coopsim.adapters``);
4. records: run directories and the runner that makes them;
5. analysis: tables, figures, reports, the app, benchmarks and the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("coopsim", "mechanisms")
LAYERS = ("configuration", "worlds", "agents", "builder", "execution", "records", "analysis")

# Module (or package: every module under it) -> layer. The most specific entry wins; the bare
# "coopsim" entry is its __init__ alone, so a new top-level module must be placed here.
LAYER_OF = {
    "coopsim": "configuration",
    "coopsim.config": "configuration",
    "coopsim.schema": "configuration",
    "coopsim.paths": "configuration",
    "coopsim.files": "configuration",
    "mechanisms.params": "configuration",
    "mechanisms": "worlds",
    "coopsim.envs": "worlds",
    "coopsim.metrics": "worlds",
    "coopsim.measures": "worlds",
    "coopsim.intervals": "worlds",
    "coopsim.agents": "agents",
    "coopsim.scenario": "builder",
    "coopsim.builder": "builder",
    "coopsim.adapters": "execution",
    "coopsim.rollout_buffer": "execution",
    "coopsim.credit": "execution",
    "coopsim.train": "execution",
    "coopsim.evaluate": "execution",
    "coopsim.replay": "execution",
    "coopsim.record": "records",
    "coopsim.runner": "records",
    "coopsim.staging": "records",
    "coopsim.experiments": "records",
    "coopsim.sweeps": "records",
    "coopsim.stress": "records",
    "coopsim.stress.populations": "builder",  # read when a scenario names populations
    "coopsim.lab": "records",  # oTree projects out of scenarios and runs, lab data in as runs
    "coopsim.analysis": "analysis",
    "coopsim.figures": "analysis",
    "coopsim.report": "analysis",
    "coopsim.app": "analysis",
    "coopsim.bench": "analysis",
    "coopsim.cli": "analysis",
    "coopsim.__main__": "analysis",  # `python -m coopsim`: the command line
    "coopsim.conformance": "analysis",
    "coopsim.docs_links": "analysis",
}

# Edges the cycle check leaves out, each with its reason (none today).
IGNORED_EDGES: set[tuple[str, str]] = set()


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the two packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project modules ``name`` (at ``path``) imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, up level - 1 more
                package = name.split(".") if is_package else name.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            targets = [t for t in targets[:-1] if t in modules] or [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c of a non-module c
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    names = set(modules)
    graph = {name: imports_of(name, path, names) for name, path in modules.items()}
    for source, target in IGNORED_EDGES:
        graph[source].discard(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path a -> ... -> a) per strongly connected component that has
    one, by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_closed_path(graph, set(c)) for c in components]


def _closed_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, for the error message."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in LAYER_OF and (k == len(parts) or prefix != "coopsim"):
            return LAYER_OF[prefix]
    return None


def test_the_graph_sees_module_and_function_level_imports():
    graph = import_graph()
    assert "coopsim.builder" in graph["coopsim.train"]  # module level
    assert "coopsim.record" in graph["coopsim.cli.runs"]  # inside a function
    assert "coopsim.app.menu" in graph["coopsim.app.main"]  # from package import module
    assert "coopsim.envs" in graph["coopsim.scenario"]  # from package import name


def test_cycles_are_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"x": {"y"}, "y": set()}) == []


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_mechanisms_import_nothing_of_coopsim():
    graph = import_graph()
    wrong = {m: sorted(t for t in ts if t.startswith("coopsim")) for m, ts in graph.items()}
    wrong = {m: ts for m, ts in wrong.items() if m.startswith("mechanisms") and ts}
    assert not wrong, f"mechanisms modules import coopsim: {wrong}"


def test_every_module_has_a_layer():
    missing = [m for m in import_graph() if layer_of(m) is None]
    assert not missing, f"modules in no layer (add them to LAYER_OF): {missing}"
    assert layer_of("coopsim.new_module") is None  # the bare package entry is exact
    assert layer_of("mechanisms.params") == "configuration"
    assert layer_of("mechanisms.tax") == "worlds"
    assert layer_of("coopsim.agents.ppo") == "agents"
    assert layer_of("coopsim.adapters.pettingzoo") == "execution"


def against_layers(graph: dict[str, set[str]]) -> list[str]:
    """Every import that runs back up: from a module to one of a later layer."""
    rank = {layer: k for k, layer in enumerate(LAYERS)}
    return [
        f"{source} ({layer_of(source)}) imports {target} ({layer_of(target)})"
        for source, targets in sorted(graph.items())
        for target in sorted(targets)
        if rank[layer_of(target)] > rank[layer_of(source)]
    ]


def test_an_import_back_up_is_named():
    graph = {
        "coopsim.envs.commons": {"coopsim.agents.ppo", "mechanisms.base"},  # world -> agent
        "coopsim.agents.ppo": {"coopsim.scenario"},  # agent -> builder
        "coopsim.scenario": {"coopsim.agents.ppo", "coopsim.envs"},  # down: fine
        "coopsim.adapters.suite": {"coopsim.scenario"},  # down: fine
    }
    assert against_layers(graph) == [
        "coopsim.agents.ppo (agents) imports coopsim.scenario (builder)",
        "coopsim.envs.commons (worlds) imports coopsim.agents.ppo (agents)",
    ]


def test_layers_import_only_their_own_or_earlier_layers():
    wrong = against_layers(import_graph())
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


# Modules that call only declared interfaces: no getattr/hasattr asks an object what it can do.
PROBE_FREE = (
    "coopsim.report",
    "coopsim.runner",
    "coopsim.staging",
    "coopsim.train",
    "coopsim.evaluate",
    "coopsim.scenario",
    "coopsim.credit",
    "coopsim.rollout_buffer",
)


def test_execution_calls_declared_interfaces_instead_of_probing():
    modules = project_modules()
    probes = []
    for name in PROBE_FREE:
        tree = ast.parse(modules[name].read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
            ):
                probes.append(f"{name}:{node.lineno} {node.func.id}")
    assert not probes, f"probes of objects' abilities: {probes}"
