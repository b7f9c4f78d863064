"""The app's former traps, as regressions under Streamlit's AppTest: optional numbers shown
unset, saving under the name given, and the Report page reporting on the runs chosen on
Compare with a preview and HTML and PDF downloads."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.runner import run_scenario
from tests.app.pages import by_label, page_test

TIMEOUT = 120


def page(name: str, timeout: int = TIMEOUT) -> AppTest:
    return page_test(name, timeout)


@pytest.fixture(autouse=True)
def runs_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("COOPSIM_DESIGNS", str(tmp_path / "designs"))
    return tmp_path / "runs"


def test_optional_numbers_are_unset_not_zero():
    at = page("design").run()
    by_label(at.selectbox, "Start from scenario").set_value("tax_one_step_ai_planner").run()
    assert not [e.value for e in at.error]  # was: planner.num_minibatches: got 0
    assert at.text_input(key="r2.planner.num_minibatches").value == ""
    assert by_label(at.text_input, "Skill seed").value == ""  # not silently 0
    assert at.success and "Valid design" in at.success[0].value


def test_save_uses_the_name_given(tmp_path):
    at = page("design").run()
    at.text_input(key="r1.name").set_value("renamed_design").run()
    assert by_label(at.text_input, "File name").value == "renamed_design.toml"
    by_label(at.button, "Save design").click().run()
    assert (tmp_path / "designs" / "renamed_design.toml").exists()
    assert not (tmp_path / "designs" / "public_goods.toml").exists()
    assert "renamed_design.toml" in at.success[-1].value


def test_report_page_takes_the_runs_chosen_on_compare(runs_env):
    bare = run_scenario(sc.load("public_goods"), seed=0, out=runs_env, episodes=4)
    tax = run_scenario(sc.load("public_goods_tax"), seed=0, out=runs_env, episodes=4)
    run_scenario(sc.load("public_goods_punishment"), seed=0, out=runs_env, episodes=4)
    at = page("report")
    at.session_state["selected_runs"] = [bare.name, tax.name]
    at.run()
    assert not at.exception
    assert bare.name in at.markdown[0].value and tax.name in at.markdown[0].value
    by_label(at.button, "Build report").click().run()
    assert not at.exception
    built = at.session_state["report_built"]
    assert built["runs"] == [bare.name, tax.name]
    assert "<h1>Policy brief: 2 rules compared</h1>" in built["html"]
    assert "public_goods_punishment" not in built["html"]
    assert built["pdf"][:5] == b"%PDF-"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download HTML", "Download PDF"]
    assert at.get("iframe")  # the inline preview
    assert not any(p.name == "reports" for p in runs_env.iterdir())  # runs/ holds runs only


def test_report_page_without_a_choice_offers_the_runs_compare_opens_on(runs_env):
    """Opened directly, the page offers the runs Compare would open on and links to Compare to
    change them, instead of an empty page."""
    only = run_scenario(sc.load("public_goods"), seed=0, out=runs_env, episodes=2)
    at = page("report").run()
    assert not at.exception
    assert any("the run Compare opens on" in m.value for m in at.markdown)
    assert any(only.name in m.value for m in at.markdown)
    assert any(b.proto.label == "Build report" for b in at.button)
