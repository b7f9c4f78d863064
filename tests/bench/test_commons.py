"""The commons benchmark at tiny sizes: its tables' shape, and how `coopsim bench` reaches it."""

from __future__ import annotations

from coopsim import cli
from coopsim import scenario as sc
from coopsim.bench import commons
from coopsim.bench.throughput import Timing

TINY = Timing(warmup_s=0.0, repeats=1, repeat_s=0.01)


def tiny_commons() -> sc.Scenario:
    scenario = sc.load("commons")
    scenario.world.episode_length = 5
    scenario.training.num_worlds = 2
    scenario.training.update_epochs = 1
    scenario.training.num_minibatches = 1
    return scenario


def test_tables_have_a_row_per_batch_size_and_positive_rates(monkeypatch, capsys):
    monkeypatch.setattr(commons, "QUICK", TINY)
    monkeypatch.setattr(commons, "LOOP_MAX", 2)
    worlds, training = commons.main(
        quick=True,
        device="cpu",
        batch_sizes=(1, 3),
        threads=1,
        training_iterations=1,
        scenario=tiny_commons(),
    )
    assert [(r.device, r.batch, r.looped_worlds) for r in worlds] == [("cpu", 1, 1), ("cpu", 3, 2)]
    assert all(r.batched > 0 and r.looped > 0 and r.ratio > 0 for r in worlds)
    (row,) = training
    assert row.batch == 2 and row.steps_per_s > 0 and row.iteration_s > 0
    out = capsys.readouterr().out
    table = out[out.index("batched agent-steps/s") :].splitlines()
    assert len([line for line in table if line.rstrip().endswith("x")]) == 2
    assert "PPO agent-steps/s (with update)" in out and "one world at a time" in out


def test_coopsim_bench_commons_runs_the_commons_benchmark(monkeypatch):
    calls = []
    monkeypatch.setattr(commons, "main", lambda **kw: calls.append(kw))
    assert cli.main(["bench", "commons", "--quick", "--device", "cpu"]) == 0
    assert calls == [{"quick": True, "device": "cpu", "threads": None}]
