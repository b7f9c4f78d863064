from pathlib import Path

import pandas as pd
import pytest

from coopsim.analysis.demo_findings import (
    amount,
    arm_findings,
    change,
    format_table,
    percent,
    run_values,
    seconds_range,
    takeaway,
    training_seconds,
)
from coopsim.intervals import t_interval
from coopsim.record import RunData


def fake_run(shares: list[float], policies: list[str], outside: float = 0.0, punish=None):
    """A run of one episode, one round: seat i contributes shares[i] of an endowment of 20."""
    rows = pd.DataFrame(
        {
            "episode": 0,
            "round": 0,
            "agent": range(len(shares)),
            "policy": policies,
            "contribution": [20.0 * s for s in shares],
            "gross": 20.0,
            "net": 20.0 + outside,
        }
    )
    if punish is not None:
        rows["punishment_given"] = punish
    summary = {"mechanisms": [{"description": "A rule."}]}
    return RunData(Path("r"), summary, {"world": {"endowment": 20.0}}, rows)


def test_run_values_count_learners_only():
    run = fake_run([0.5, 0.5, 1.0, 1.0], ["ppo", "ppo", "punisher", "punisher"], 3.0, 0.0)
    values = run_values(run)
    assert values["contribution"] == pytest.approx(0.5)
    assert values["payoff"] == pytest.approx(23.0)
    assert values["outside"] == pytest.approx(3.0)
    assert values["punishment"] == 0.0


def test_run_values_refuse_a_run_without_learners():
    with pytest.raises(ValueError, match="no seat has policy 'ppo'"):
        run_values(fake_run([1.0, 1.0], ["free_rider", "free_rider"]))


def test_arm_findings_are_intervals_over_seeds():
    runs = [fake_run([s, s], ["ppo", "ppo"]) for s in (0.2, 0.4, 0.6)]
    arm = arm_findings("matching", runs)
    assert arm.seeds == 3 and arm.learners == 2 and arm.scripted == ()
    assert arm.contribution.mean == pytest.approx(0.4)
    assert arm.contribution.ci_low < 0.2 and arm.contribution.ci_high > 0.6
    assert arm.punishment is None


def test_formats_clip_shares_and_never_print_minus_zero():
    iv = t_interval([0.0, 0.0, 0.03])
    assert percent(iv) == "1% [0, 5]"
    assert amount(t_interval([-0.001, 0.0, 0.001])) == "0.0 [0.0, 0.0]"
    assert amount(t_interval([-1.0, 1.0, 0.0]), floor=0.0).startswith("0.0 [0.0,")


def test_change_reads_overlap():
    low, high = t_interval([0.0, 0.1, 0.05]), t_interval([0.9, 1.0, 0.95])
    assert change(low, high) == "raised"
    assert change(high, low) == "lowered"
    assert change(low, low) == "did not clearly change"


def test_table_explains_each_zero_width_interval():
    base = arm_findings("no mechanism", [fake_run([0.0, 0.0], ["ppo", "ppo"])] * 3)
    table = format_table([base])
    assert "0% [0, 0] (1)" in table
    assert "(1) zero width: every unit gave the same value" in table


def test_takeaway_is_computed_from_the_numbers():
    base = arm_findings("no mechanism", [fake_run([s, s], ["ppo"] * 2) for s in (0, 0.05, 0)])
    mixed = [
        fake_run([s, s, 1, 1], ["ppo", "ppo", "punisher", "punisher"], -2.0, 0.0)
        for s in (0.5, 0.5, 0.55)
    ]
    arm = arm_findings("peer punishment", mixed)
    first, second, last = takeaway([base, arm])
    assert first.startswith(
        f"With no mechanism the learners contributed {percent(base.contribution)}"
    )
    assert second.startswith("A rule. This raised the learners' contributions")
    assert f"to {percent(arm.contribution)}" in second
    assert "2 of 4 seats are scripted (punisher)" in second
    assert "of which -2.0 [-2.0, -2.0] was destroyed" in second
    assert "3 training seeds" in last


def test_design_sentence_counts_the_seeds_at_each_choice_against_the_best_rule():
    from coopsim.analysis.demo_findings import PlannerDesign, design_sentence

    design = PlannerDesign(
        controls=("matching.rate",),
        objective="net_welfare",
        grid=((0.0, 1.0, 2.0, 3.0, 4.0),),
        chosen=((2.0,), (2.0,), (1.0,)),
        best=(2.0,),
    )
    assert design_sentence(design) == (
        "A learning planner, paid the net welfare, set matching.rate (one of 0, 1, 2, 3, 4) and "
        "chose 2 at 2 of 3 training seeds and 1 at 1 of 3 training seeds; the best rule on that "
        "grid with agents at equilibrium is 2."
    )


def test_arm_findings_without_a_planner_have_no_design():
    runs = [fake_run([0.5, 0.5], ["ppo", "ppo"]) for _ in range(2)]
    assert arm_findings("fixed", runs).design is None


def with_training(run: RunData, seconds) -> RunData:
    """The run with a training budget in its summary, as a learning run records it."""
    summary = {**run.summary, "training": {"iterations": 20, "seconds": seconds}}
    return RunData(run.path, summary, run.scenario, run.episodes)


def test_training_seconds_are_read_from_each_runs_summary():
    runs = [with_training(fake_run([0.5], ["ppo"]), s) for s in (3.25, 6.5, 4)]
    assert training_seconds(runs) == [3.25, 6.5, 4.0]
    assert seconds_range(training_seconds(runs)) == "3.2-6.5 s a seed"
    assert seconds_range([7.04]) == "7.0 s"
    assert seconds_range([0.31, 0.29]) == "0.3 s a seed"  # no range where none shows


def test_training_seconds_are_none_where_a_run_did_not_record_them():
    trained = with_training(fake_run([0.5], ["ppo"]), 3.0)
    assert training_seconds([trained, fake_run([0.5], ["ppo"])]) is None  # evaluated only
    assert training_seconds([with_training(fake_run([0.5], ["ppo"]), None)]) is None
