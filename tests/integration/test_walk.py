"""The walk of a run's scenario stays short and never climbs far back up the layers.

``scripts/walk.py`` traces one short run of ``public_goods_matching_planner`` (1 iteration)
and counts where its scenario goes (stays: runs of consecutive calls inside one module) and the
calls that run from a module into one of a later layer (climbs). The targets hold the house to
what it is: a scenario loaded once and built once, then passed down as built pieces and plain
descriptions, not asked again by every layer on the way.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_STAYS = 30
MAX_CLIMBS = 6


def _walk_module():
    spec = importlib.util.spec_from_file_location("_walk", ROOT / "scripts" / "walk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_stays_are_counted_as_runs_of_one_module():
    walk = _walk_module()
    result = walk.Walk("x", calls=[("a", "f"), ("a", "g"), ("b", "h"), ("a", "f")])
    assert result.stays == [("a", ["f", "g"]), ("b", ["h"]), ("a", ["f"])]
    assert result.files == {"a", "b"}
    assert walk.module_of(str(ROOT / "coopsim" / "agents" / "__init__.py")) == "coopsim.agents"
    assert walk.module_of(str(ROOT / "mechanisms" / "tax.py")) == "mechanisms.tax"
    assert walk.module_of(str(ROOT / "tests" / "conftest.py")) is None


def test_a_planner_run_walks_within_its_targets():
    result = _walk_module().walk("public_goods_matching_planner")
    figures = result.as_dict()
    assert figures["calls"] > 0 and figures["files"] > 1  # the tracer saw the run
    assert figures["stays"] <= MAX_STAYS, figures
    assert len(result.climbs) <= MAX_CLIMBS, figures
