"""The walk of a scenario through ``run_scenario``: where the scenario goes, and what runs back up.

A tracer (``sys.setprofile``) watches one short run of a scenario (1 training iteration, 2
evaluation episodes, in a temporary folder) and reports three figures, so that anyone can see
how far a run's scenario travels and whether the layers of ``tests/integration/test_architecture.py`` hold
at run time too, not only in the import statements:

call
    Every Python function call whose code lives in ``coopsim/`` or ``mechanisms/`` and that
    receives the scenario as an argument: the ``Scenario`` the run starts from, any other
    ``Scenario`` (a copy the runner makes, say), or one of a scenario's parts (its world,
    mechanisms, each mechanism's parameters, population, evaluation, training and planner
    tables). The dataclasses' own ``__init__`` are not counted: building the data is not
    following it.
stay
    A maximal run of consecutive such calls inside one module's functions. ``files`` counts the
    distinct modules among the stays.
climb
    A call that runs back up the layers: a function of one module calls (directly, or through
    code outside the project such as ``torch.nn.Module.__call__``) a function of a module in a
    later layer (``configuration < worlds < agents < builder < execution < records <
    analysis``). Every call of the run counts here, not only those that carry the scenario,
    and each distinct caller -> callee pair counts once (a callback called every iteration is
    one climb).

Usage: ``python scripts/walk.py [SCENARIO] [--verbose] [--json]``. The default scenario is
``public_goods_matching_planner``; ``tests/integration/test_walk.py`` holds the figures to
their targets.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("coopsim", "mechanisms")


def _architecture() -> Any:
    """The layers as ``tests/integration/test_architecture.py`` declares them (one source of
    truth)."""
    path = ROOT / "tests" / "integration" / "test_architecture.py"
    spec = importlib.util.spec_from_file_location("_architecture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Walk:
    """What one traced run showed."""

    scenario: str
    calls: list[tuple[str, str]] = field(default_factory=list)  # (module, function)
    climbs: list[tuple[str, str]] = field(default_factory=list)  # (caller, callee) qualnames

    @property
    def stays(self) -> list[tuple[str, list[str]]]:
        stays: list[tuple[str, list[str]]] = []
        for module, function in self.calls:
            if stays and stays[-1][0] == module:
                stays[-1][1].append(function)
            else:
                stays.append((module, [function]))
        return stays

    @property
    def files(self) -> set[str]:
        return {module for module, _ in self.calls}

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "calls": len(self.calls),
            "stays": len(self.stays),
            "files": len(self.files),
            "climbs": [f"{a} -> {b}" for a, b in self.climbs],
        }


def module_of(filename: str) -> str | None:
    """The dotted project module a code object's file is, or None outside the project."""
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    if relative.parts[0] not in PACKAGES or relative.suffix != ".py":
        return None
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def walk(name: str = "public_goods_matching_planner") -> Walk:
    """Run ``name`` for 1 iteration and 2 episodes under the tracer."""
    arch = _architecture()
    rank = {layer: k for k, layer in enumerate(arch.LAYERS)}
    from coopsim.config import Scenario
    from coopsim.runner import run_scenario
    from coopsim.scenario import load

    scenario = load(name)
    parts: dict[int, object] = {}

    def remember(sc: Scenario) -> None:
        if id(sc) in parts:
            return
        parts[id(sc)] = sc
        pieces = [sc.world, sc.mechanisms, sc.population, sc.evaluation, sc.training, sc.planner]
        pieces += [*sc.mechanisms, *(m.params for m in sc.mechanisms), *sc.population]
        for piece in pieces:
            if piece is not None:
                parts[id(piece)] = piece

    def carries(value: object) -> bool:
        if isinstance(value, Scenario):
            remember(value)
            return True
        return value is not None and parts.get(id(value)) is value

    modules: dict[str, str | None] = {}  # file name -> module, cached: the tracer runs hot
    layers: dict[str, int] = {}
    result = Walk(name)
    seen_climbs: set[tuple[str, str]] = set()

    def module(code_file: str) -> str | None:
        if code_file not in modules:
            modules[code_file] = module_of(code_file)
        return modules[code_file]

    def layer(mod: str) -> int:
        if mod not in layers:
            layers[mod] = rank[arch.layer_of(mod)]
        return layers[mod]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        code = frame.f_code
        callee = module(code.co_filename)
        if callee is None:
            return
        caller_frame = frame.f_back
        while caller_frame is not None and module(caller_frame.f_code.co_filename) is None:
            caller_frame = caller_frame.f_back
        if caller_frame is not None:
            caller = module(caller_frame.f_code.co_filename)
            assert caller is not None
            if layer(caller) < layer(callee):
                pair = (
                    f"{caller}.{caller_frame.f_code.co_qualname}",
                    f"{callee}.{code.co_qualname}",
                )
                if pair not in seen_climbs:
                    seen_climbs.add(pair)
                    result.climbs.append(pair)
        if code.co_name == "__init__" and callee.startswith("coopsim.config"):
            return
        arguments = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        local = frame.f_locals
        if any(carries(local.get(a)) for a in arguments):
            result.calls.append((callee, code.co_name))

    remember(scenario)
    with tempfile.TemporaryDirectory() as out:
        sys.setprofile(profile)
        try:
            run_scenario(scenario, out=out, iterations=1, episodes=2)
        finally:
            sys.setprofile(None)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="public_goods_matching_planner")
    parser.add_argument("--verbose", action="store_true", help="list every stay")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = walk(args.scenario)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
        return 0
    stays = result.stays
    print(
        f"{result.scenario}: {len(result.calls)} calls, {len(stays)} stays in "
        f"{len(result.files)} files, {len(result.climbs)} climbs"
    )
    for caller, callee in result.climbs:
        print(f"  climb: {caller} -> {callee}")
    if args.verbose:
        for mod, functions in stays:
            print(f"  stay: {mod}: {', '.join(functions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
