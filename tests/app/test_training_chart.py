"""The Run page's training chart: quantities of different scales never share one axis."""

from __future__ import annotations

from coopsim.app.training_chart import quantities, training_chart


def _rows(n: int = 40) -> list[dict[str, float]]:
    return [
        {
            "iteration": k,
            "agent_steps": 20_000.0 * (k + 1),  # up to 800,000
            "agents_entropy": 1.4 - 0.01 * k,
            "agents_policy_loss": 0.02 * (-1) ** k,
            "agents_return": 10.0 + k,
            "seconds": 0.5,
        }
        for k in range(n)
    ]


def test_each_quantity_gets_its_own_panel_and_y_scale():
    spec = training_chart(_rows()).to_dict()
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["facet"]["field"] == "quantity" and spec["columns"] >= 2
    assert spec["spec"]["encoding"]["x"]["field"] == "iteration"
    panels = spec["facet"]["sort"]
    assert panels == [
        "agents return",
        "agents entropy",
        "agents policy loss",
        "agent steps",
        "seconds",
    ]
    values = {}
    for dataset in spec["datasets"].values():
        for record in dataset:
            values.setdefault(record["quantity"], []).append(record["value"])
    assert max(values["agent steps"]) == 800_000
    assert max(values["agents entropy"]) - min(values["agents entropy"]) > 0.3


def test_no_numbers_no_chart():
    assert training_chart([]) is None
    assert training_chart([{"iteration": 0, "note": "x"}]) is None
    assert quantities(__import__("pandas").DataFrame(_rows(2)))[-2:] == ["agent_steps", "seconds"]
