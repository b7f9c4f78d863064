"""The contributions figure keeps every run's line visible when runs coincide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coopsim import figures


def fake_run(name: str, per_round: list[float]):
    """A run of two episodes in which every agent contributes ``per_round[r]`` in round r."""
    from coopsim.record import RunData

    rounds = len(per_round)
    episodes = pd.DataFrame(
        {
            "episode": np.repeat([0, 1], rounds),
            "round": np.tile(np.arange(rounds), 2),
            "agent": 0,
            "contribution": per_round * 2,
            "net": 20.0,
        }
    )
    summary = {"scenario": name, "seed": 0}
    return RunData(Path(name), summary, {"world": {"endowment": 20.0}}, episodes)


def drawn(fig) -> dict[str, np.ndarray]:
    """Each run's line: label -> its x positions."""
    ax = fig.axes[0]
    return {
        line.get_label(): np.asarray(line.get_xdata())
        for line in ax.lines
        if line.get_label()[0] != "_" and line.get_label() != "endowment"
    }


def test_coinciding_runs_are_named_and_drawn_apart():
    runs = [
        fake_run("scripted", [4.5, 4.5, 4.5]),
        fake_run("matched", [4.5, 4.5, 4.5]),
        fake_run("punished", [10.0, 12.0, 14.0]),
        fake_run("taxed", [4.5, 4.5, 4.5]),
    ]
    fig = figures.contributions_per_round(runs)
    title = fig.legends[0].get_title().get_text()
    assert title == "identical lines, drawn side by side: scripted = matched = taxed", title
    lines = drawn(fig)
    starts = {label: float(x[0]) for label, x in lines.items()}
    same = [starts["scripted"], starts["matched"], starts["taxed"]]
    assert len(set(same)) == 3  # every one of the coinciding lines is at its own place
    assert min(same) < 1 < max(same) and starts["punished"] == 1  # around the true round


def test_runs_that_differ_are_drawn_where_they_are_without_a_note():
    runs = [fake_run("a", [1.0, 2.0]), fake_run("b", [1.0, 3.0])]
    fig = figures.contributions_per_round(runs)
    assert fig.legends[0].get_title().get_text() == ""
    lines = drawn(fig)
    assert sorted(lines) == ["a", "b"]
    assert all(x.tolist() == [1, 2] for x in lines.values())


def test_coinciding_groups_lines_within_the_tolerance():
    curves = [np.array([1.0, 2.0]), np.array([1.0, 2.004]), np.array([1.0, 2.5])]
    assert figures.outcomes.coinciding(curves, 0.01) == [[0, 1], [2]]
    assert figures.outcomes.coinciding(curves, 0.001) == [[0], [1], [2]]
