"""Run directories: atomic writing, and loading back as labelled DataFrames."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coopsim import scenario as sc
from coopsim.record import RunWriter, load_run, load_runs
from coopsim.runner import run_scenario

LABELS = ["run", "scenario", "mechanism", "seed"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return run_scenario(sc.load("public_goods_tax"), seed=5, out=out, episodes=3)


def test_load_run_labels_every_table(run_dir):
    run = load_run(run_dir)
    assert run.path == run_dir and run.name == run_dir.name
    assert run.summary["scenario"] == "public_goods_tax"
    assert run.summary["mechanism"] == "tax+lump_sum"
    assert run.summary["seed"] == 5
    assert run.scenario["world"]["kind"] == "public_goods"
    for frame in (run.episodes, run.episode_metrics):
        assert list(frame.columns[:4]) == LABELS
        assert (frame["run"] == run_dir.name).all()
        assert (frame["scenario"] == "public_goods_tax").all()
        assert (frame["mechanism"] == "tax+lump_sum").all()
        assert (frame["seed"] == 5).all()
    assert len(run.episodes) == 3 * 10 * 4
    assert len(run.episode_metrics) == 3
    assert {"transfer_tax", "transfer_lump_sum", "net", "gross", "wealth"} <= set(
        run.episodes.columns
    )
    # wealth is the running total of net payoffs of each agent within its episode
    last = run.episodes[run.episodes["round"] == 9].set_index(["episode", "agent"])["wealth"]
    total = run.episodes.groupby(["episode", "agent"])["net"].sum()
    pd.testing.assert_series_equal(last.sort_index(), total.sort_index(), check_names=False)
    summary = run.summary_frame()
    assert list(summary.columns[:4]) == LABELS
    assert {"metric", "mean", "ci_low", "ci_high"} <= set(summary.columns)


def test_load_runs_from_a_glob_skips_non_runs(run_dir):
    (run_dir.parent / "notes").mkdir(exist_ok=True)
    runs = load_runs(str(run_dir.parent / "*"))
    assert [r.path for r in runs] == [run_dir]
    with pytest.raises(FileNotFoundError, match="not a coopsim run directory"):
        load_run(run_dir.parent / "notes")


def test_run_writer_publishes_in_one_step(tmp_path):
    with RunWriter(tmp_path, "r1") as writer:
        writer.write_json("summary.json", {"a": 1})
        writer.write_frame("episodes.parquet", pd.DataFrame({"x": [1, 2]}))
        # nothing under the final name while the run is being written
        assert not writer.final.exists()
        assert writer.path.parent == tmp_path and writer.path.name.startswith(".")
    assert writer.final == tmp_path / "r1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r1"]
    assert sorted(p.name for p in writer.final.iterdir()) == ["episodes.parquet", "summary.json"]
    assert json.loads((writer.final / "summary.json").read_text()) == {"a": 1}


def test_run_writer_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "runs"
    with pytest.raises(RuntimeError, match="boom"), RunWriter(out, "r1") as writer:
        writer.write_json("summary.json", {"a": 1})
        writer.write_frame("episodes.parquet", pd.DataFrame({"x": [1]}))
        raise RuntimeError("boom")
    assert not writer.final.exists()
    assert not writer.staging.exists()
    assert list(out.iterdir()) == []  # no staging folder, no hidden leftovers


def test_run_writer_never_overwrites(tmp_path):
    with RunWriter(tmp_path, "r") as first:
        first.write_text("a.txt", "first")
    with RunWriter(tmp_path, "r") as second:
        second.write_text("a.txt", "second")
    assert second.final == tmp_path / "r-2"
    assert (tmp_path / "r" / "a.txt").read_text() == "first"
    assert (tmp_path / "r-2" / "a.txt").read_text() == "second"


def test_concurrent_writers_of_one_name_both_publish(tmp_path):
    """Two writers staged before either publishes (parallel seeds of a sweep, say)."""
    a = RunWriter(tmp_path, "same")
    b = RunWriter(tmp_path, "same")
    with a:
        a.write_text("who.txt", "a")
    with b:
        b.write_text("who.txt", "b")
    assert a.final != b.final
    assert (a.final / "who.txt").read_text() == "a"
    assert (b.final / "who.txt").read_text() == "b"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([a.final.name, b.final.name])


def test_summary_records_what_each_mechanism_does(run_dir):
    """Readers take the mechanisms' descriptions from the run, written by the version that ran."""
    from mechanisms import MECHANISMS

    recorded = load_run(run_dir).summary["mechanisms"]
    assert [m["kind"] for m in recorded] == ["tax", "lump_sum"]
    for m in recorded:
        assert m["summary"] == MECHANISMS[m["kind"]].summary != ""
    assert recorded[0]["description"] == (
        "Bracket income tax every 1 round(s): 0% above 0, 20% above 20, 50% above 30."
    )
    assert recorded[1]["description"] == "Equal lump-sum rebate of 100% of what was collected."


def test_run_folders_share_one_permission_policy(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        scripted = run_scenario(sc.load("public_goods"), out=tmp_path, episodes=2)
        plain = tmp_path / "made_by_mkdir"
        plain.mkdir()
    finally:
        os.umask(mask)
    assert stat.S_IMODE(scripted.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o755
