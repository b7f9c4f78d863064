"""The sweep table: column order, row order by cell then seed, and its atomic write."""

from __future__ import annotations

import pandas as pd

from coopsim.record import SWEEP_TABLE
from coopsim.sweeps.table import TRAILING, sweep_frame, write_table


def _row(cell: str, rate: float, seed: int, welfare: float) -> dict:
    return {"status": "ok", "error": "", "wall_s": 1.0, "run": f"{cell}/r{seed}", "cell": cell,
            "welfare": welfare, "mechanisms.0.rate": rate, "seed": seed}  # fmt: skip


def test_rows_follow_the_sweep_order_whatever_order_cells_finished_in():
    rows = [_row("b", 0.5, 1, 4.0), _row("a", 0.0, 1, 2.0), _row("b", 0.5, 0, 3.0),
            _row("a", 0.0, 0, 1.0)]  # fmt: skip
    frame = sweep_frame(rows, ["mechanisms.0.rate"], order=["a", "b"])
    assert list(frame.columns) == ["mechanisms.0.rate", "seed", "welfare", *TRAILING]
    assert list(zip(frame["cell"], frame["seed"])) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert frame["welfare"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_an_empty_sweep_has_the_columns_and_is_written_whole(tmp_path):
    empty = sweep_frame([], ["world.multiplier"], order=[])
    assert empty.empty and list(empty.columns) == ["world.multiplier", "seed", *TRAILING]
    frame = sweep_frame([_row("a", 0.0, 0, 1.0)], ["mechanisms.0.rate"], order=["a"])
    path = write_table(tmp_path, frame)
    assert path == tmp_path / SWEEP_TABLE
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SWEEP_TABLE]  # no temporary left
