"""The training benchmark: its tables, and how `coopsim bench` reaches it."""

from __future__ import annotations

import pytest
import torch

from coopsim import cli
from coopsim.bench import training

TINY = training.Plan(
    warmup_iterations=0,
    repeats=1,
    repeat_s=0.01,
    seeds=(0,),
    max_iterations=1,
    batch_sizes=(4, 8),
    economy_repeats=0,
)


def test_tables_have_a_row_per_batch_size_and_seed(monkeypatch, capsys):
    monkeypatch.setattr(training, "QUICK", TINY)
    before = torch.get_num_threads()
    try:  # one thread: a busy 2-core machine slows spinning OpenMP threads down many times
        throughput, results = training.main(quick=True, device="cpu", threads=1)
    finally:
        torch.set_num_threads(before)
    out = capsys.readouterr().out
    assert [r.batch for r in throughput] == [4, 8]
    assert throughput[0].ratio == 1.0 and all(r.steps_per_s > 0 for r in throughput)
    assert "agent-steps/s (with update)" in out and "vs smallest B" in out
    assert "sampled actions" in out and "passes 90%" in out
    (row,) = results
    assert row.seed == 0 and row.agent_steps == 64 * 10 * 4  # one iteration at the scenario's B
    assert (row.iterations is None) == (row.rate <= training.TARGET)


@pytest.mark.parametrize(
    "argv", [["bench", "training", "--quick"], ["bench", "--training", "--quick"]]
)
def test_coopsim_bench_training_runs_the_training_benchmark(monkeypatch, argv):
    calls = []
    monkeypatch.setattr(training, "main", lambda **kw: calls.append(kw))
    assert cli.main([*argv, "--device", "cpu"]) == 0
    assert calls == [{"quick": True, "device": "cpu", "threads": None}]


def test_coopsim_bench_still_means_the_throughput_benchmark(monkeypatch):
    from coopsim.bench import throughput

    calls = []
    monkeypatch.setattr(throughput, "main", lambda **kw: calls.append(kw))
    monkeypatch.setattr(training, "main", lambda **kw: pytest.fail("ran the training bench"))
    assert cli.main(["bench", "--quick"]) == 0
    assert calls == [{"quick": True, "device": "auto"}]
