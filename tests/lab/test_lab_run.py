"""The one writer of tables people played: rows by table, round and seat, a controller per
round, extra columns and summary entries, and nothing half-written when it fails."""

from __future__ import annotations

import pytest

from coopsim import scenario as scenario_mod
from coopsim.lab.lab_run import write_table_run
from coopsim.record import load_run


def rounds(n_rounds: int) -> list[dict]:
    c = [4.0, 0.0, 10.0, 20.0]
    gross = [20 - x + 1.6 * sum(c) / 4 for x in c]
    return [
        {"contributions": c, "gross": gross, "net": gross, "transfers": {}} for _ in range(n_rounds)
    ]


def test_rows_controllers_columns_and_summary(tmp_path):
    sc = scenario_mod.load("public_goods")
    controllers = [
        [["human", "conditional_cooperator", "conditional_cooperator", "free_rider"]] * 1
        + [["conditional_cooperator"] * 3 + ["free_rider"]]
    ]
    path = write_table_run(
        sc,
        [rounds(2)],
        controllers,
        tmp_path,
        columns={"participant": ["Ann", "", "", ""] * 2},
        summary={"source": "play", "votes": {"counts": {"A": 1, "B": 0}}},
        tag="table",
    )
    run = load_run(path)
    ep = run.episodes
    assert path.name.startswith("public_goods-table-")
    assert ep.loc[ep["agent"] == 0, "controller"].tolist() == ["human", "conditional_cooperator"]
    assert ep.loc[ep["agent"] == 0, "participant"].tolist() == ["Ann", "Ann"]
    assert ep["net"].sum() == pytest.approx(2 * (80 - 34 + 1.6 * 34))
    assert run.summary["votes"]["counts"] == {"A": 1, "B": 0}
    assert run.summary["episodes"] == 1 and "metrics" in run.summary


def test_a_failed_write_leaves_nothing(tmp_path):
    sc = scenario_mod.load("public_goods")
    with pytest.raises(ValueError):
        write_table_run(sc, [rounds(2)], [[["human"] * 4] * 2], tmp_path, columns={"x": [1]})
    assert list(tmp_path.iterdir()) == []
