"""The economy's training benchmark: rates per thread, shares of time, the earlier setting."""

from __future__ import annotations

import pytest
import torch

from coopsim import scenario as sc
from coopsim.bench import economy_training as bench
from coopsim.train import Trainer

TINY = {
    "name": "economy_tiny",
    "description": "two agents on a 3x4 map, 10-step episodes",
    "world": {
        "kind": "economy",
        "num_agents": 2,
        "layout": "text",
        "map_text": "w.s.\n....\ns.w.",
        "episode_length": 10,
        "view_radius": 1,
    },
    "population": [{"policy": "ppo", "count": 2}],
    "training": {"num_worlds": 2, "update_epochs": 1, "num_minibatches": 2, "hidden": 8},
}


def test_both_configurations_are_timed_and_their_shares_add_up(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = bench.compare(repeats=2, scenario=sc.from_dict(TINY))
    finally:
        torch.set_num_threads(before)
    earlier, current = rows
    assert (earlier.label, current.label) == ("earlier", "scenario")
    assert current.batch == 2 and current.epochs == 1 and current.minibatches == 2
    assert current.encoder == "conv 16"
    assert (earlier.batch, earlier.epochs, earlier.minibatches) == (16, 4, 8)
    assert earlier.encoder == "conv 16"
    assert earlier.ratio == 1.0 and current.ratio == pytest.approx(
        current.steps_per_s / earlier.steps_per_s
    )
    assert earlier.cpu_ratio == 1.0 and current.cpu_ratio == pytest.approx(
        current.cpu_steps_per_s / earlier.cpu_steps_per_s
    )
    for row in rows:
        assert row.threads == 1 and row.per_thread == row.steps_per_s > 0
        # one thread: its CPU time is at most about its wall time, so the rate per
        # CPU-second is at least about the rate per second (half, for helper threads)
        assert row.cpu_steps_per_s >= 0.5 * row.steps_per_s > 0
        assert set(row.shares) == set(bench.SHARES)
        assert sum(row.shares.values()) == pytest.approx(1.0)
        assert row.shares["env"] > 0 and row.shares["inference"] > 0 and row.shares["update"] > 0
    table = bench.format_table(rows)
    assert "agent-steps/s/thread" in table and "vs earlier" in table and "per CPU-second" in table
    assert len(table.splitlines()) == 4


def test_the_stopwatch_leaves_training_unchanged():
    scenario = sc.from_dict(TINY)
    plain = Trainer(scenario, seed=0, iterations=2).train()
    probe = bench.Probe("scenario", {}, scenario)
    probe.trainer.iteration = 0
    probe.trainer.iterations = 2
    watched = probe.trainer.train()
    strip = [
        [{k: v for k, v in r.items() if k != "seconds"} for r in run] for run in (plain, watched)
    ]
    assert strip[0] == strip[1]
    assert probe.watch.seconds["env"] > 0


def test_an_earlier_setting_can_be_given_and_the_paper_row_gives_its_own(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    earlier = {"num_worlds": 3, "update_epochs": 2, "num_minibatches": 3, "map_encoder": "linear"}
    wide = {"num_worlds": 4}
    try:
        rows = bench.compare(1, sc.from_dict(TINY), earlier=earlier, more={"wide": wide})
    finally:
        torch.set_num_threads(before)
    assert [r.label for r in rows] == ["earlier", "scenario", "wide"]
    assert (rows[0].batch, rows[0].epochs, rows[0].minibatches) == (3, 2, 3)
    assert rows[0].encoder.startswith("linear") and rows[1].batch == 2 and rows[2].batch == 4
    assert rows[2].ratio == pytest.approx(rows[2].steps_per_s / rows[0].steps_per_s)
    seen = {}
    monkeypatch.setattr(
        bench,
        "compare",
        lambda repeats, scenario, earlier, more: (
            seen.update(repeats=repeats, name=scenario.name, earlier=earlier, more=more) or []
        ),
    )
    bench.compare_paper(2)
    assert seen == {
        "repeats": 2,
        "name": bench.PAPER_SCENARIO,
        "earlier": bench.PAPER_EARLIER,
        "more": {"wide": bench.PAPER_WIDE},
    }
    assert bench.PAPER_WIDE["num_worlds"] == 4 * bench.PAPER_EARLIER["num_worlds"]
    # fast: 8x the worlds, one pass, minibatches of the same size as the earlier setting's
    early, fast = bench.PAPER_EARLIER, bench.PAPER_FAST
    assert fast["num_worlds"] == 8 * early["num_worlds"] and fast["update_epochs"] == 1
    size = early["num_worlds"] / early["num_minibatches"]
    assert fast["num_worlds"] / fast["num_minibatches"] == size
    assert (fast["map_precision"], early["map_precision"]) == ("bfloat16", "float32")
    # the paper scenarios train with it: the table's "scenario" row is the fast setting
    for name in ("free_market", "us_federal", "saez", "ai_planner"):
        training = sc.load(f"economy_paper_{name}").training
        assert {k: getattr(training, k) for k in fast} == fast
    assert bench.PAPER_SCENARIO.startswith("economy_paper_")
