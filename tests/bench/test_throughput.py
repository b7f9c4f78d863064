"""The public-goods throughput benchmark at tiny sizes: its table, and the timing it rests on."""

from __future__ import annotations

import itertools

import pytest

from coopsim.bench import throughput
from coopsim.bench.throughput import Timing

TINY = Timing(warmup_s=0.0, repeats=3, repeat_s=0.01)


def test_table_has_a_row_per_batch_size_with_the_earlier_step_beside(monkeypatch, capsys):
    monkeypatch.setattr(throughput, "QUICK", TINY)
    rows = throughput.main(quick=True, device="cpu", batch_sizes=(1, 3, 128))
    assert [(r.batch, r.looped_batch) for r in rows] == [(1, 1), (3, 64), (128, 64)]
    for r in rows:
        assert min(r.now.wall, r.now.cpu, r.earlier.wall, r.earlier.cpu, r.looped) > 0
        assert r.speedup == pytest.approx(r.now.cpu / r.earlier.cpu)
    out = capsys.readouterr().out
    assert "earlier, CPU-s" in out and "timed in turn" in out
    table = out[out.index("agent-steps/s") :].splitlines()[2:]
    assert len(table) == 3 and table[1].endswith("(loop measured at B=64)")


def test_interleaved_repeats_take_turns_and_report_each_runs_median(monkeypatch):
    order: list[str] = []
    clock = itertools.count()
    monkeypatch.setattr(throughput.time, "perf_counter", lambda: float(next(clock)))
    monkeypatch.setattr(throughput.time, "process_time", lambda: 0.0)

    def run(name: str):
        def go(calls: int) -> None:
            order.append(name)

        return go

    timing = Timing(warmup_s=0.0, repeats=3, repeat_s=1.0)
    rates = throughput.interleaved_rates(
        {"a": run("a"), "b": run("b")}, work_per_call=10, timing=timing, sync=lambda: None
    )
    assert order[-6:] == ["a", "b"] * 3  # the timed repeats alternate
    assert set(rates) == {"a", "b"} and all(r.wall > 0 and r.cpu > 0 for r in rates.values())


def test_the_torch_path_is_timed_in_turn_with_the_kernel_off(monkeypatch):
    """Where the native kernel runs, the same world on the torch path gets its own rate, and
    its repeats really run with the kernel off."""
    from coopsim import scenario as sc
    from coopsim.envs import public_goods_native

    if not public_goods_native.enabled():
        pytest.skip(f"public-goods kernel not in use here: {public_goods_native.note()}")
    seen: list[bool] = []
    kernel = public_goods_native.observe
    monkeypatch.setattr(
        public_goods_native, "observe", lambda *a: (seen.append(True), kernel(*a))[1]
    )
    plain = throughput.native_switched(lambda _: seen.append(public_goods_native.enabled()), False)
    plain(1)
    assert seen == [False] and public_goods_native.enabled()  # on again afterwards
    now, earlier, torch_path = throughput.paired_rates(
        sc.load("public_goods"), 8, throughput.torch.device("cpu"), TINY
    )
    assert torch_path is not None and min(now.cpu, earlier.cpu, torch_path.cpu) > 0
    assert True in seen  # the kernel wrote the native run's observations
