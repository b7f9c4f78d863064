"""Running sweeps: run directories per cell x seed, the table, resuming, refusals, failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coopsim import cli
from coopsim import scenario as sc
from coopsim.record import load_run, load_sweep
from coopsim.schema import ConfigError
from coopsim.sweeps import SweepSpec, run_sweep
from coopsim.sweeps.cells import CellTask, run_cell
from coopsim.sweeps.driver import MANIFEST

RATES = [0, 1, 2]


def _matching_sweep(out, **kw):
    spec = SweepSpec(grid={"mechanisms.0.rate": RATES}, seeds=[0, 1])
    return run_sweep(sc.load("public_goods_matching"), spec, out, episodes=4, **kw)


def test_every_cell_and_seed_is_a_run_directory_in_one_table(tmp_path):
    seen = []
    result = _matching_sweep(tmp_path, progress=lambda done, total: seen.append((done, total)))
    table = load_sweep(tmp_path)
    assert table.attrs["fields"] == ["mechanisms.0.rate"]
    assert list(table["mechanisms.0.rate"]) == [0, 0, 1, 1, 2, 2]
    assert list(table["seed"]) == [0, 1] * 3
    assert (table["status"] == "ok").all() and result.ran == 6 and result.failed == 0
    for _, row in table.iterrows():
        run = load_run(tmp_path / row["run"])
        assert run.scenario["mechanisms"][0]["rate"] == row["mechanisms.0.rate"]
        assert run.summary["seed"] == row["seed"]
        stats = run.summary["metrics"]["objective"]
        assert (row["objective"], row["objective_ci_low"]) == (stats["mean"], stats["ci_low"])
    # the sponsor's match adds to what the same contributions earn
    means = table.groupby("mechanisms.0.rate")["objective"].mean()
    assert means.is_monotonic_increasing and means[2] > means[0]
    assert seen[-1] == (6, 6)
    assert json.loads((tmp_path / MANIFEST).read_text())["fields"] == ["mechanisms.0.rate"]


def test_a_second_call_skips_finished_cells_and_gives_the_same_table(tmp_path):
    first = _matching_sweep(tmp_path).table
    again = _matching_sweep(tmp_path)
    assert again.ran == 0
    pd.testing.assert_frame_equal(first, again.table)
    # one run lost: only it runs again, and the table is the same but for where it lies
    lost = tmp_path / first["run"].iloc[3]
    for path in sorted(lost.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    lost.rmdir()
    third = _matching_sweep(tmp_path)
    assert third.ran == 1
    keep = [c for c in first.columns if c not in ("run", "wall_s")]
    pd.testing.assert_frame_equal(first[keep], third.table[keep])


def test_an_extended_sweep_reuses_the_cells_it_has(tmp_path):
    _matching_sweep(tmp_path)
    spec = SweepSpec(grid={"mechanisms.0.rate": [*RATES, 3]}, seeds=[0, 1, 2])
    result = run_sweep(sc.load("public_goods_matching"), spec, tmp_path, episodes=4)
    assert result.ran == 12 - 6 and len(result.table) == 12


def test_another_base_scenario_in_the_same_folder_is_refused(tmp_path):
    _matching_sweep(tmp_path)
    other = sc.load("public_goods_matching")
    other.world.rounds = 5
    spec = SweepSpec(grid={"mechanisms.0.rate": RATES})
    with pytest.raises(
        ConfigError, match=r"world.rounds: this sweep folder holds 10, .* asks for 5"
    ):
        run_sweep(other, spec, tmp_path, episodes=4)


def test_a_bad_cell_stops_the_sweep_before_anything_is_written(tmp_path):
    spec = SweepSpec(grid={"mechanisms.0.rate": [0, 1, -2]})
    with pytest.raises(ConfigError, match=r"mechanisms\[0\].rate: got -2.0.*rate=-2"):
        run_sweep(sc.load("public_goods_matching"), spec, tmp_path / "never")
    assert not (tmp_path / "never").exists()
    with pytest.raises(ConfigError, match="nothing to sweep"):
        run_sweep(sc.load("public_goods_matching"), SweepSpec(), tmp_path / "never")


def test_a_failing_cell_is_a_row_and_the_others_go_on(tmp_path):
    base = sc.load("public_goods_matching").to_dict()
    broken = CellTask(str(tmp_path), "x", {"a": 1}, {**base, "world": {}}, None, 0, 2)
    row = run_cell(broken)
    assert row["status"] == "failed" and "world" in row["error"] and row["run"] == ""


def test_the_command_line(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", "public_goods_matching", "--set", "mechanisms.0.rate=0,2"]
    argv += ["--set", "world.multiplier=1.2,1.6", "--seeds", "2", "--out", str(out)]
    assert cli.main([*argv, "--episodes", "3"]) == 0
    printed = capsys.readouterr().out
    assert printed.strip().endswith("sweep.parquet") and "objective_ci_low" in printed
    table = load_sweep(out)
    assert len(table) == 8 and table.attrs["fields"] == ["mechanisms.0.rate", "world.multiplier"]
    assert (
        cli.main(["sweep", "public_goods", "--set", "world.multiplyer=1", "--out", str(out)]) == 2
    )
    assert "world.multiplyer: no such field" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("world.endowment=20,nan", ["world.endowment", "got nan", "finite"]),
        ("world.endowments=[2,2,2,1e300]", ["world.endowments", "element 3", "<= 1e+06"]),
        ("world.multiplier=1.6,1e308", ["world.multiplier", "1e+308", "<= 1000"]),
        ("mechanisms.0.rate=inf", ["mechanisms[0].rate", "got inf", "finite"]),
    ],
)
def test_non_finite_and_overflowing_set_values_are_refused_before_any_folder(
    tmp_path, capsys, setting, words
):
    """A --set value passes the parameter schema as a scenario file's does: one line naming
    the field, exit 2, and no sweep folder."""
    out = tmp_path / "sw"
    argv = ["sweep", "public_goods_matching", "--set", setting, "--out", str(out)]
    assert cli.main([*argv, "--episodes", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()
