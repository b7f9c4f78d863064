"""The economy benchmark in quick mode: the throughput table."""

from __future__ import annotations

from coopsim.bench import economy
from coopsim.envs.economy import native


def test_throughput_table_in_quick_mode(capsys):
    rows = economy.main(quick=True, device="cpu", batch_sizes=(1, 4), threads=1)
    assert [(d, b) for d, b, _, _ in rows] == [("cpu", 1), ("cpu", 4)]
    assert all(fast > 0 and slow > 0 for _, _, fast, slow in rows)
    out = capsys.readouterr().out
    assert "economy_us_federal" in out and "single worlds" in out and "x" in out.splitlines()[-1]
    kernels = next(line for line in out.splitlines() if line.startswith("kernels"))
    assert ("native" in kernels) == (native.library() is not None)
