"""The Play page under Streamlit's AppTest: open a table, take a seat, contribute, and a table
id that does not exist."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coopsim.app.views.play import level_labels
from coopsim.lab import table

SCRIPT = """
from coopsim.app import state
from coopsim.app.views import play
state.init()
play.render()
"""


def page() -> AppTest:
    return AppTest.from_string(SCRIPT, default_timeout=60)


def test_open_a_table_take_a_seat_and_contribute(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    at = page().run()
    rules = [s for s in at.selectbox if s.label == "Rule A"][0]
    assert "scenario public_goods_institution" in rules.options  # one the lab's agents can seat
    assert "scenario public_goods_punishment" not in rules.options  # no punishment stage here
    rules.set_value("public_goods_institution")
    [r for r in at.number_input if r.label == "Rounds per rule"][0].set_value(2)
    at.button[0].click().run()  # the form's submit button
    t = at.query_params["table"]
    t = t[0] if isinstance(t, list) else t
    assert (tmp_path / "runs" / ".tables" / t / "state.json").is_file()
    [b for b in at.text_input if b.label == "Your name"][0].set_value("Ann")
    [b for b in at.button if b.label == "Take this seat"][0].click().run()
    assert not at.exception
    me = at.query_params["me"]
    me = me[0] if isinstance(me, list) else me
    assert any("round 1 of 2" in h.value for h in at.markdown)
    state = table.view(tmp_path / "runs", t)
    assert state["phase"] == "play" and state["seats"]["0"]["name"] == "Ann"
    rule = state["rules"][0]
    slider = at.select_slider[0]
    unit = rule["endowments"][0] / (rule["levels"] - 1)
    assert unit == int(unit)  # this scenario's grid is whole points: integer labels
    assert slider.options == [str(int(k * unit)) for k in range(rule["levels"])]
    slider.set_value(7)
    [b for b in at.button if b.label == "Contribute"][0].click().run()
    assert table.view(tmp_path / "runs", t)["rounds"][0][0]["levels"][0] == 7


def test_a_table_that_does_not_exist_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_RUNS", str(tmp_path / "runs"))
    at = page()
    at.query_params["table"] = "0123abcd"
    at.run()
    assert [e.value for e in at.error] == ["table '0123abcd': no such table"]


def test_slider_labels_are_integers_only_where_every_level_is_whole_points():
    assert level_labels(20, 21) == [str(k) for k in range(21)]
    assert level_labels(20, 6) == ["0", "4", "8", "12", "16", "20"]
    assert level_labels(10, 5) == ["0.0", "2.5", "5.0", "7.5", "10.0"]  # half points: one decimal
    assert level_labels(10, 4) == ["0.00", "3.33", "6.67", "10.00"]  # thirds: two decimals
    with pytest.raises(ValueError, match="at least 2"):
        level_labels(10, 1)
