"""Browser sessions: a token in the URL, the design restored in a reopened tab, own jobs only."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from coopsim.app import jobs, session

TOKEN = "reopened-tab-token-0001"


@pytest.fixture(autouse=True)
def runs_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


def page(name: str, token: str | None = None) -> AppTest:
    script = (
        "from coopsim.app import state\n"
        f"from coopsim.app.views import {name}\n"
        "state.init()\n"
        f"{name}.render()\n"
    )
    at = AppTest.from_string(script, default_timeout=30)
    if token is not None:
        at.query_params[session.PARAM] = token
    return at


def test_a_new_session_gets_a_token_and_a_hostile_one_is_replaced():
    at = page("design").run()
    token = at.query_params[session.PARAM]
    assert session.valid_token(token)
    hostile = page("design", "../../etc/passwd").run()
    replaced = hostile.query_params[session.PARAM]
    assert session.valid_token(replaced) and replaced != token


def test_a_reopened_tab_restores_the_design_in_progress(runs_env):
    first = page("design", TOKEN).run()
    first.text_input(key="r1.name").set_value("half_done").run()
    first.text_input(key="r1.world.public_goods.rounds").set_value("7").run()
    assert (runs_env / session.SESSIONS / TOKEN / session.DESIGN_FILE).exists()

    reopened = page("design", TOKEN).run()  # a new Streamlit session, same URL
    design = reopened.session_state["design"]
    assert design["name"] == "half_done" and design["world"]["rounds"] == 7
    assert [t.value for t in reopened.text_input if t.label == "Name"] == ["half_done"]
    # Another session starts from the default scenario.
    other = page("design").run()
    assert other.session_state["design"]["name"] == "public_goods"


def test_each_session_sees_its_own_jobs_and_others_only_without_buttons(runs_env):
    theirs = jobs.prepare("", runs_env, seeds=[0], owner="someone-else-token-01", name="theirs")
    jobs.write_status(theirs.path, state="running", pid=os.getpid())
    at = page("run", TOKEN).run()
    assert any("No runs started from this session" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Stop")]

    at.segmented_control(key="jobs_view").set_value("All jobs").run()
    (table,) = at.dataframe
    assert table.value["job"].tolist() == [theirs.id]
    assert table.value["started by"].tolist() == ["another session"]
    assert not [b for b in at.button if b.label.startswith("Stop")]

    mine = jobs.prepare("", runs_env, seeds=[0], owner=TOKEN, name="mine")
    jobs.write_status(mine.path, state="running", pid=os.getpid())
    at.segmented_control(key="jobs_view").set_value("Your jobs").run()
    assert any(f"`{mine.id}`" in m.value for m in at.markdown)
    assert [b.label for b in at.button if b.label.startswith("Stop")] == ["Stop this run"]
