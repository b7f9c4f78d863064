"""Loading run directories into pandas: labels, per-episode metrics, globs, optional logs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coopsim import scenario
from coopsim.record import (
    RunWriter,
    episodes_frame,
    load_run,
    load_runs,
    metrics_frame,
    summary_frame,
    training_log_frame,
)
from coopsim.runner import run_scenario


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run_scenario(scenario.load("public_goods"), out=out, episodes=3)
    run_scenario(scenario.load("stag_hunt"), out=out, episodes=2)
    (out / "not-a-run").mkdir()
    return out


def test_load_runs_glob_skips_other_folders(out):
    runs = load_runs(f"{out}/*")
    assert [r.summary["scenario"] for r in runs] == ["public_goods", "stag_hunt"]
    with pytest.raises(FileNotFoundError, match="not a coopsim run"):
        load_run(out / "not-a-run")


def test_tables_are_labelled(out):
    runs = load_runs(f"{out}/*")
    eps = episodes_frame(runs)
    assert list(eps.columns[:4]) == ["run", "scenario", "mechanism", "seed"]
    assert eps.groupby("scenario")["episode"].nunique().to_dict() == {
        "public_goods": 3,
        "stag_hunt": 2,
    }
    per_episode = runs[0].episode_metrics
    assert len(per_episode) == 3 and per_episode["run"].eq(runs[0].name).all()
    # summary.json means are the means of the per-episode metrics.
    assert per_episode["gini"].mean() == pytest.approx(runs[0].summary["metrics"]["gini"]["mean"])
    table = summary_frame(runs)
    assert set(table["scenario"]) == {"public_goods", "stag_hunt"}
    assert runs[0].label == "public_goods (seed 0)"


def test_metrics_parquet_optional(tmp_path):
    with RunWriter(tmp_path, "trained") as w:
        w.write_json("summary.json", {"scenario": "x", "mechanism": "none", "seed": 3})
        w.write_frame("metrics.parquet", pd.DataFrame({"iteration": [0, 1], "loss": [2.0, 1.0]}))
    run = load_run(w.final)
    assert run.episodes.empty and run.episode_metrics is None
    assert run.training_log["seed"].tolist() == [3, 3]
    assert training_log_frame([run])["loss"].tolist() == [2.0, 1.0]
    assert training_log_frame([]).empty
    assert json.loads((w.final / "summary.json").read_text())["seed"] == 3


def test_the_training_log_is_read_under_its_name_and_its_old_one(tmp_path):
    for name, loss in (("training_log.parquet", 1.5), ("metrics.parquet", 2.5)):
        with RunWriter(tmp_path, name.split(".")[0]) as w:
            w.write_json("summary.json", {"scenario": "x", "mechanism": "none", "seed": 0})
            w.write_frame(name, pd.DataFrame({"iteration": [0], "loss": [loss]}))
        assert load_run(w.final).training_log["loss"].tolist() == [loss]


def test_load_run_reads_only_the_columns_and_episodes_asked_for(tmp_path):
    path = run_scenario(scenario.load("public_goods_tax"), out=tmp_path, episodes=5)
    full = load_run(path)
    part = load_run(path, columns=["episode", "round", "net", "transfer_*", "absent"], max_rows=100)
    keys = ["run", "scenario", "mechanism", "seed"]
    assert list(part.episodes.columns) == [
        *keys,
        "episode",
        "round",
        "transfer_tax",
        "transfer_lump_sum",
        "net",
    ]
    # 40 rows an episode (10 rounds x 4 agents): the first two whole episodes fit in 100 rows.
    assert sorted(part.episodes["episode"].unique()) == [0, 1]
    expected = full.episodes[full.episodes["episode"] < 2][part.episodes.columns]
    pd.testing.assert_frame_equal(
        part.episodes.reset_index(drop=True), expected.reset_index(drop=True)
    )
    # Never less than one episode, and a limit above the run's size reads it all.
    assert load_run(path, max_rows=1).episodes["episode"].unique().tolist() == [0]
    assert len(load_run(path, max_rows=10_000).episodes) == len(full.episodes) == 200


@pytest.fixture
def damaged(out, tmp_path):
    """A copy of one finished run, to damage."""
    import shutil

    source = next(p for p in sorted(out.iterdir()) if (p / "summary.json").exists())
    return shutil.copytree(source, tmp_path / source.name)


@pytest.mark.parametrize(
    "file, content, field",
    [
        ("summary.json", '{"scenario": "public_go', "(syntax)"),
        ("summary.json", "[1, 2]", "(top level)"),
        ("summary.json", '{"metrics": {"gini": 0.1}}', "metrics"),
        ("scenario.toml", "[world\nkind = ", "(syntax)"),
    ],
)
def test_a_damaged_text_file_is_one_error_naming_file_and_field(damaged, file, content, field):
    from coopsim.schema import ConfigError

    (damaged / file).write_text(content)
    with pytest.raises(ConfigError) as err:
        load_run(damaged)
    assert str(err.value).startswith(f"{damaged / file}: {field}: ")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("table", ["episodes.parquet", "episode_metrics.parquet"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_table_is_one_error_naming_the_file(damaged, table, damage):
    from coopsim.schema import ConfigError

    path = damaged / table
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not parquet" * 20)
    with pytest.raises(ConfigError) as err:
        load_run(damaged)
    assert str(err.value).startswith(f"{path}: (file): not a readable parquet table")
    assert "\n" not in str(err.value)


def test_named_paths_that_are_not_runs_are_skipped_with_a_note(out, tmp_path):
    (tmp_path / "designs").mkdir()
    (tmp_path / "report.html").write_text("<html>")
    runs = sorted(p for p in out.iterdir() if (p / "summary.json").exists())
    notes: list[str] = []
    named = [*runs, tmp_path / "designs", tmp_path / "report.html"]
    loaded = load_runs(named, note=notes.append)
    assert [r.path for r in loaded] == runs
    assert notes == [
        f"{tmp_path / 'designs'}: skipped, not a coopsim run directory (no summary.json)",
        f"{tmp_path / 'report.html'}: skipped, not a coopsim run directory (no summary.json)",
    ]


def test_a_named_path_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere: no such file or directory"):
        load_runs([tmp_path / "nowhere"])
    with pytest.raises(FileNotFoundError, match="nowhere: no such file or directory"):
        load_run(tmp_path / "nowhere")


def test_the_old_names_of_the_training_log_still_read_it_and_warn(tmp_path):
    with RunWriter(tmp_path, "trained") as w:
        w.write_json("summary.json", {"scenario": "x", "mechanism": "none", "seed": 0})
        w.write_frame("training_log.parquet", pd.DataFrame({"iteration": [0], "loss": [1.5]}))
    run = load_run(w.final)
    with pytest.warns(DeprecationWarning, match="RunData.training_log"):
        assert run.metrics is run.training_log
    with pytest.warns(DeprecationWarning, match="training_log_frame"):
        assert metrics_frame([run])["loss"].tolist() == [1.5]
    with pytest.raises(AttributeError):  # read only: the log is set under its own name
        run.metrics = None


def test_a_folder_of_runs_named_as_one_is_skipped_with_the_glob_to_give(out, tmp_path):
    notes: list[str] = []
    assert load_runs([out], note=notes.append) == []
    assert notes == [
        f"{out}: skipped, a folder of run directories, not one (no summary.json); "
        f"give its runs: {out / '*'}"
    ]
