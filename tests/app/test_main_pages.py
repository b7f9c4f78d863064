"""The app's pages under Streamlit's AppTest: widgets from configs, error paths, jobs, compare."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.app import APP_FILE, jobqueue, jobs, worker
from coopsim.measures import MEASURES
from coopsim.runner import run_scenario
from coopsim.schema import param
from mechanisms import MECHANISMS, Mechanism
from tests.app.pages import by_label, page_test

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TIMEOUT = 30


def page(name: str) -> AppTest:
    """One page outside the menu, as the app draws it."""
    return page_test(name, TIMEOUT)


@pytest.fixture(autouse=True)
def runs_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# -- Design ---------------------------------------------------------------------------------------
def test_design_draws_the_scenario_as_widgets():
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Design a mechanism"
    assert by_label(at.selectbox, "Start from scenario").value == "public_goods"
    assert by_label(at.text_input, "Num agents").value == "4"
    assert by_label(at.text_input, "Multiplier").value == "1.6"
    assert by_label(at.selectbox, "Group 1 policy").value == "conditional_cooperator"
    assert by_label(at.selectbox, "Group 2 policy").value == "free_rider"
    # Help text comes from the config's param(help=..., ge=...) metadata.
    assert "Allowed: >= 2 and <= 64" in by_label(at.text_input, "Num agents").help
    assert at.success and "Valid design: 4 agents" in at.success[0].value
    assert not errors(at)


def test_invalid_value_gives_the_command_line_message(tmp_path, capsys):
    at = page("design").run()
    by_label(at.text_input, "Multiplier").set_value("-1.0").run()
    beside, shown = errors(at)  # beneath the field, and in the page's check
    # The command line refuses the same value in a file with the same words.
    bad = sc.load("public_goods").to_dict()
    bad["world"]["multiplier"] = -1.0
    path = tmp_path / "bad.toml"
    path.write_text(__import__("tomli_w").dumps(bad))
    from coopsim.cli import main

    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    cli_line = capsys.readouterr().err.strip()
    assert cli_line == f"error: {path}: world.multiplier: got -1.0, must be > 0 and <= 1000"
    assert shown == "error: design: world.multiplier: got -1.0, must be > 0 and <= 1000"
    assert beside == "got -1.0, must be > 0 and <= 1000"
    assert not any(b.label == "Save design" and not b.disabled for b in at.button)


def test_population_must_fill_the_world():
    at = page("design").run()
    at.text_input(key="r1.p0.count").set_value("1").run()
    assert errors(at) == [
        "error: design: population: counts add up to 2 agents, but world.num_agents is 4"
    ]


def test_list_fields_parse_and_refuse_like_the_cli():
    at = page("design").run()
    by_label(at.selectbox, "Start from scenario").set_value("public_goods_tax").run()
    assert at.text_input(key="r2.m0.tax.rates").value == "0, 0.2, 0.5"
    at.text_input(key="r2.m0.tax.rates").set_value("0, 0.2").run()
    assert errors(at) == [
        "error: design: mechanisms[0]: brackets and rates must have the same length (got 3 and 2)"
    ]
    at.text_input(key="r2.m0.tax.rates").set_value("0, 0.2, lots").run()
    assert errors(at) == [
        "got '0, 0.2, lots', expected a list of numbers",  # beneath the field
        "error: design: mechanisms[0].rates: got '0, 0.2, lots', expected a list of numbers",
    ]
    at.text_input(key="r2.m0.tax.rates").set_value("0, 0.1, 0.3").run()
    assert not errors(at)
    assert at.session_state["design"]["mechanisms"][0]["rates"] == [0.0, 0.1, 0.3]


def test_add_remove_and_reorder_mechanisms():
    at = page("design").run()
    by_label(at.selectbox, "Start from scenario").set_value("public_goods_tax").run()

    def kinds() -> list[str]:
        return [m["kind"] for m in at.session_state["design"].get("mechanisms", [])]

    assert kinds() == ["tax", "lump_sum"]
    at.button(key="r2.m0.down").click().run()
    assert kinds() == ["lump_sum", "tax"]
    # Values follow their mechanism when it moves.
    assert at.text_input(key="r2.m0.tax.rates").value == "0, 0.2, 0.5"
    at.selectbox(key="add_mechanism_kind").set_value("matching").run()
    by_label(at.button, "Add mechanism").click().run()
    assert kinds() == ["lump_sum", "tax", "matching"]
    assert by_label(at.text_input, "Rate").value == "1.0"
    # Widget keys follow the mechanism (uid), not its place: uid 0 is the tax.
    at.button(key="r2.m0.rm").click().run()
    assert kinds() == ["lump_sum", "matching"]
    at.button(key="r2.m1001.up").click().run()
    assert kinds() == ["matching", "lump_sum"]
    assert not errors(at)


def test_a_new_mechanism_parameter_needs_no_app_code(monkeypatch):
    @dataclasses.dataclass
    class LeverParams:
        strength: float = param(0.25, help="How hard the lever pulls", ge=0, le=1)
        rounds_active: int = param(3, help="Rounds it stays on", ge=1)
        enabled: bool = param(True, help="Whether it acts at all")

    class Lever(Mechanism):
        kind = "lever"
        Params = LeverParams
        summary = "A test lever."

        def apply(self, ctx):
            return self._zeros()

    monkeypatch.setitem(MECHANISMS, "lever", Lever)
    at = page("design").run()
    at.selectbox(key="add_mechanism_kind").set_value("lever").run()
    by_label(at.button, "Add mechanism").click().run()
    strength = by_label(at.text_input, "Strength")
    assert strength.value == "0.25"
    assert strength.help == "How hard the lever pulls. Allowed: >= 0 and <= 1."
    assert by_label(at.text_input, "Rounds active").value == "3"
    assert by_label(at.checkbox, "Enabled").value is True
    strength.set_value("2.0").run()
    assert errors(at) == [
        "got 2.0, must be >= 0 and <= 1",  # beneath the field
        "error: design: mechanisms[0].strength: got 2.0, must be >= 0 and <= 1",
    ]


def test_switching_scenario_redraws_the_world(tmp_path):
    at = page("design").run()
    by_label(at.selectbox, "Start from scenario").set_value("prisoners_dilemma").run()
    assert by_label(at.selectbox, "World type").value == "matrix_game"
    assert by_label(at.selectbox, "Game").value == "prisoners_dilemma"
    assert by_label(at.text_input, "Rounds").value == "50"
    assert not [n for n in at.text_input if n.label == "Endowment"]
    assert not errors(at)


def test_save_writes_a_scenario_file_the_loader_accepts(tmp_path):
    at = page("design").run()
    by_label(at.text_input, "Name").set_value("my_design").run()
    by_label(at.text_input, "Rounds").set_value("7").run()
    by_label(at.text_input, "File name").set_value("saved one.toml").run()
    by_label(at.button, "Save design").click().run()
    at.run()  # the next interaction lists the new file
    path = tmp_path / "designs" / "saved_one.toml"
    assert path.exists(), [s.value for s in at.success]
    loaded = sc.load(path)
    assert loaded.name == "my_design" and loaded.world.rounds == 7
    assert tomllib.loads(path.read_text()) == at.session_state["design"]
    # The saved design is offered as a starting point.
    assert "saved: saved_one" in by_label(at.selectbox, "Start from scenario").options


# -- Run ------------------------------------------------------------------------------------------
def _wait(at: AppTest, done, limit: float = 40.0) -> AppTest:
    deadline = time.monotonic() + limit
    while not done(at):
        assert time.monotonic() < deadline, "the job did not finish in time"
        time.sleep(0.3)
        at.run()
    return at


def test_run_page_runs_the_design_in_a_detached_worker(runs_env):
    at = page("run").run()
    assert at.title[0].value == "Run the design"
    assert any("No runs started" in i.value for i in at.info)
    by_label(at.text_input, "Seeds").set_value("2")
    by_label(at.text_input, "Evaluation episodes").set_value("4")
    by_label(at.button, "Start run").click().run()
    job_dir = Path(at.session_state["active_job"])
    pid = jobs.load(job_dir).status["pid"]
    # Its own session: closing the tab or stopping the server's script does not stop it.
    assert os.getsid(pid) != os.getsid(0)
    _wait(at, lambda a: any("Finished: 2 run directories" in s.value for s in a.success))
    status = jobs.load(job_dir).status
    assert status["state"] == "done" and status["progress"] == 1.0
    assert [row["seed"] for row in status["live"]] == [0, 1]
    made = sorted(p for p in runs_env.iterdir() if not p.name.startswith("."))
    assert [p.name.rsplit("-", 1)[-1] for p in made] == ["s0", "s1"]
    assert (made[0] / "summary.json").exists()
    assert at.session_state["selected_runs"] == [p.name for p in made]


def test_run_page_refuses_an_invalid_design():
    at = page("run")
    bad = sc.load("public_goods").to_dict()
    bad["world"]["num_agents"] = 5
    at.session_state["design"] = bad
    at.run()
    assert errors(at) == [
        "error: design: population: counts add up to 4 agents, but world.num_agents is 5"
    ]
    assert not [b for b in at.button if b.label == "Start run"]


SESSION = "test-session-token-0001"


def test_a_failing_job_reports_its_error_on_the_page(runs_env):
    # The worker's code run in this process (the detached launch is tested above).
    bad = 'name = "broken"\n[world]\nkind = "nope"\n'
    job = jobs.prepare(bad, runs_env, seeds=[0], owner=SESSION)
    assert worker.work(job.path) == 1
    assert jobs.load(job.path).state == "failed"
    at = page("run")
    at.query_params["s"] = SESSION
    at.run()  # no active job in this session: shows its newest
    (shown,) = errors(at)
    assert "world.kind: got 'nope', allowed: 'public_goods'" in shown


def test_a_worker_that_dies_silently_reads_as_interrupted(runs_env):
    job = jobs.prepare("", runs_env, seeds=[0])
    jobs.write_status(job.path, state="running", pid=2**22 + 12345)  # no such process
    (job.path / jobs.LOG).write_text("Killed\n")
    loaded = jobs.load(job.path)
    assert loaded.state == "interrupted" and loaded.resumable
    assert "stopped unexpectedly" in loaded.status["error"] and "Killed" in loaded.status["error"]


def test_jobs_refuse_no_seeds(runs_env):
    with pytest.raises(ValueError, match="at least one seed"):
        jobqueue.start("", runs_env, seeds=[])


# -- Compare and report ---------------------------------------------------------------------------
@pytest.fixture
def two_runs(runs_env):
    a = run_scenario(sc.load("public_goods"), seed=0, out=runs_env, episodes=4)
    b = run_scenario(sc.load("public_goods_tax"), seed=0, out=runs_env, episodes=4)
    return a, b


def test_compare_shows_table_with_intervals_and_figures(two_runs):
    at = page("compare").run()
    assert not at.exception
    chosen = by_label(at.multiselect, "Runs").value
    assert sorted(chosen) == sorted(p.name for p in two_runs)
    from coopsim.app.views.compare import run_labels
    from coopsim.record import load_run

    rules = at.table[0].value  # the rules, pooled over their seeds, first
    # scripted seats only: the contribution rate is every seat's, and its label says so
    assert len(rules) == 2 and "contribution rate, all seats" in rules.columns
    table = at.table[1].value  # then each run on its own
    for metric in ("utilitarian_welfare", "equality", "gini", "contribution_rate"):
        assert MEASURES[metric].label in table.index  # rows are the registry's measures
    column = run_labels([load_run(p) for p in two_runs])[0]  # the rule's label and the seed
    assert column.endswith(", seed 0") and two_runs[0].name not in table.columns
    cell = table.loc[MEASURES["contribution_rate"].label, column]
    mean, interval = cell.rstrip(" *").split(" [")  # a zero-width interval is marked
    low, high = (float(x) for x in interval.rstrip("]").split(", "))
    assert low <= float(mean) <= high
    # Five figure tabs: scatter, Lorenz, wealth, contributions and the tax schedule.
    assert len(at.get("image")) >= 5


def test_compare_without_runs_says_where_to_start():
    at = page("compare").run()
    assert any("No run directories" in i.value for i in at.info)


def test_report_page_renders():
    at = page("report").run()
    assert not at.exception
    assert at.title[0].value == "Scenario report"
