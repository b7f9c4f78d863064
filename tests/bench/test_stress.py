"""The stress benchmark: which runs it stresses against which, and a tiny economy run of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from coopsim import scenario as sc
from coopsim.bench import stress
from coopsim.files import tomllib


def _fake_run(root: Path, rule: str, seed: int) -> Path:
    """A folder holding only a run's scenario.toml: ``rule`` trained at ``seed``."""
    data = tomllib.loads(sc.resolve_path(rule).read_text())
    data["training"]["seed"] = seed
    folder = root / f"{rule}-s{seed}"
    folder.mkdir()
    (folder / "scenario.toml").write_text(tomli_w.dumps(data))
    return folder


def test_the_rule_at_seed_0_meets_every_other_run_of_its_world(tmp_path):
    bench = stress.BENCHES["economy"]
    runs = [_fake_run(tmp_path, r, s) for r in (bench.rule, *bench.others) for s in (0, 1, 2)]
    runs.append(_fake_run(tmp_path, bench.rule, 7))  # a seed outside the benchmark's
    stressed, partners = stress.pick_runs(bench, runs)
    assert stressed.name == f"{bench.rule}-s0"
    assert len(partners) == 11 and stressed not in partners
    assert f"{bench.rule}-s7" not in {p.name for p in partners}
    with pytest.raises(SystemExit, match="no run of economy_ai_planner at training seed 0"):
        stress.pick_runs(bench, [p for p in runs if p != stressed])


@pytest.mark.slow
def test_the_economy_benchmark_trains_stresses_and_prints_its_times(capsys):
    times = stress.bench_stress(quick=True, world="economy")
    out = capsys.readouterr().out
    # the rule, its 2 other seeds, the 9 other regimes' runs and economy_gather_build: 13
    assert "13 populations in one batch of 52 worlds" in out
    assert times["cell: s0 play"] > 0 and times["cell: s0 exploit-1"] > 0
    assert times["stress test in all"] >= times["cell: s0 play"] + times["cell: s0 exploit-1"]
