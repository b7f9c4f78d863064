"""The robust-planner experiment: its suites kept apart, its paired summary, and the whole
pipeline (train plain and robust, stress, summarise, resume) on a tiny budget."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coopsim import scenario as sc
from coopsim.agents.responders import RESPONDERS
from coopsim.stress import experiment
from coopsim.stress.populations import load_population

ANSWERS_RULES = {cls.name for cls in RESPONDERS}


def policies(names: list[str]) -> set[str]:
    return {m.policy for name in names for m in load_population(name).members if m.policy}


def tiny_args(tmp_path, planner: str, *extra: str, seeds: str = "0,1") -> list[str]:
    """The experiment's command line on a tiny budget (one iteration, two episodes)."""
    return [
        *(str(tmp_path), "--seeds", seeds, "--iterations", "1", "--planners", planner),
        *("--episodes", "2", "--exploiter-iterations", "1", *extra),
    ]


def test_the_training_mix_and_the_held_out_suite_are_disjoint_and_both_answer_the_rule():
    assert not set(experiment.TRAINING_MIX) & set(experiment.HELD_OUT)
    trained, held = policies(experiment.TRAINING_MIX), policies(experiment.HELD_OUT)
    assert trained & ANSWERS_RULES and held & ANSWERS_RULES
    # they differ in kind: the held-out suite's logit responders never appear in training
    assert "quantal_responder" in held - trained
    # and in degree: the held-out hurdles lie above the trained ones
    low = load_population("hurdle_low").members[0].params
    high = load_population("hurdle_high").members[0].params
    assert high.high > low.high and high.low > low.low


def test_the_crowding_suite_adds_crowding_out_of_a_different_degree_to_each_side():
    training, held, candidates = experiment.SUITES["crowding"]
    assert experiment.SUITES["first"] == (
        experiment.TRAINING_MIX,
        experiment.HELD_OUT,
        experiment.CANDIDATE_MIX,
    )
    assert not set(training) & set(held) and not set(candidates) & set(held)
    assert set(training) - set(experiment.TRAINING_MIX) == {"crowding_mild"}
    assert set(held) - set(experiment.HELD_OUT) == {"crowding_strong"}
    mild = load_population("crowding_mild").members[0].params
    strong = load_population("crowding_strong").members[0].params
    # the held-out contributors tolerate less incentive and lose more beyond it
    assert strong.tolerance < mild.tolerance and strong.degree > mild.degree
    assert experiment.answers_rule("crowding_strong")


def test_the_fairness_suite_adds_inequity_averse_voters_of_a_different_degree_to_each_side():
    training, held, candidates = experiment.SUITES["fairness"]
    assert not set(training) & set(held) and not set(candidates) & set(held)
    assert set(training) - set(experiment.TRAINING_MIX) == {"fairness_mild"}
    assert set(held) - set(experiment.HELD_OUT) == {"fairness_strong"}
    mild = load_population("fairness_mild").members
    strong = load_population("fairness_strong").members
    # the same contributions on both sides; the held-out voters envy and feel guilt more
    assert {m.params.low for m in (*mild, *strong)} == {0.8}
    assert {m.params.high for m in (*mild, *strong)} == {1.2}
    weakest = min(strong, key=lambda m: m.vote_alpha)
    assert weakest.vote_alpha > mild[0].vote_alpha and weakest.vote_beta > mild[0].vote_beta
    assert experiment.answers_rule("fairness_strong")


@pytest.mark.parametrize(
    ("suite", "training", "held_out"),
    [
        ("fairness", "TRAINING_MIX_FAIRNESS", "HELD_OUT_FAIRNESS"),
        ("givers", "TRAINING_MIX_GIVERS", "HELD_OUT_GIVERS"),
    ],
)
def test_a_democratic_suite_runs_end_to_end_and_holds_out_its_strong_population(
    tmp_path, suite, training, held_out
):
    args = tiny_args(tmp_path, "democratic_ai_planner", "--suite", suite, seeds="0")
    assert experiment.main(args) == 0
    name = "democratic_ai_planner"
    assert f"{name}: robust {suite} - plain" in set(pd.read_csv(tmp_path / "summary.csv")["rule"])
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["held_out"] == getattr(experiment, held_out)
    assert settings["training_mix"][name] == getattr(experiment, training)
    by_population = pd.read_csv(tmp_path / f"populations-{name}.csv")
    assert f"{suite}_strong" in set(by_population["population"])
    assert f"{suite}_mild" not in set(by_population["population"])


def test_the_givers_suite_adds_contributors_who_give_under_the_baseline_to_each_side():
    training, held, candidates = experiment.SUITES["givers"]
    assert not set(training) & set(held) and not set(candidates) & set(held)
    assert set(training) - set(experiment.TRAINING_MIX) == {"givers_mild"}
    assert set(held) - set(experiment.HELD_OUT) == {"givers_strong"}
    mild = load_population("givers_mild").members[0]
    strong = load_population("givers_strong").members[0]
    # the same kind on both sides; the held-out ones give more at r/N and rise more steeply
    assert mild.policy == strong.policy == "linear_responder"
    assert strong.params.base > mild.params.base > 0 and strong.params.slope > mild.params.slope
    assert experiment.answers_rule("givers_mild") and experiment.answers_rule("givers_strong")


def test_the_movable_mix_refuses_the_held_out_suite_it_is_given():
    with pytest.raises(ValueError, match="held out"):
        experiment.movable_mix(
            sc.load("public_goods_institution_planner"),
            ["crowding_strong"],
            held_out=experiment.HELD_OUT_CROWDING,
        )


def test_which_populations_answer_the_rule():
    assert experiment.answers_rule("hurdle_high") and experiment.answers_rule("best_responders")
    assert not experiment.answers_rule("fgf2001")  # its free riders read no rule


def test_the_robust_twin_differs_only_in_name_and_populations():
    plain = sc.load("public_goods_matching_planner")
    twin = experiment.robust_twin(plain)
    assert twin.name == f"{plain.name}_robust"
    assert twin.planner.populations == experiment.TRAINING_MIX
    assert twin.world == plain.world and twin.mechanisms == plain.mechanisms


def test_a_worst_case_or_cvar_twin_carries_its_objective_in_its_name():
    plain = sc.load("public_goods_matching_planner")
    worst = experiment.robust_twin(plain, "worst")
    assert worst.name == f"{plain.name}_robust_worst"
    assert worst.planner.robust_objective == "worst" and worst.planner.populations
    cvar = experiment.robust_twin(plain, "cvar", 0.4)
    assert cvar.name == f"{plain.name}_robust_cvar" and cvar.planner.cvar_alpha == 0.4
    with pytest.raises(ValueError, match="cvar_alpha is only used with"):
        experiment.robust_twin(plain, "worst", 0.4)


def test_a_cvar_alpha_without_cvar_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        experiment.main([str(tmp_path / "out"), "--robust-objective", "worst", "--cvar-alpha", "1"])
    assert exit_.value.code == 2
    assert "cvar_alpha is only used with robust_objective = 'cvar'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_summarise_pairs_every_robust_variant_with_plain():
    per_run = pd.DataFrame(
        {
            "rule": ["a"] * 2 + ["a_robust"] * 2 + ["a_robust_worst"] * 2,
            "seed": [0, 1] * 3,
            "in_distribution": [1.0, 2.0, 1.0, 2.0, 0.0, 1.0],
            "worst_case": [1.0, 1.0, 2.0, 2.0, 4.0, 5.0],
            "worst_case_answering": [1.0] * 6,
            "exploiter_gain": [0.0] * 6,
        }
    )
    table = pd.DataFrame(experiment.summarise(per_run)).set_index(["rule", "measure"])
    assert table.loc[("a: robust - plain", "worst_case")]["mean"] == pytest.approx(1.0)
    assert table.loc[("a: robust worst - plain", "worst_case")]["mean"] == pytest.approx(3.5)
    assert table.loc[("a: robust worst - plain", "in_distribution")]["mean"] == pytest.approx(-1)


def test_summarise_pairs_robust_with_plain_by_seed():
    per_run = pd.DataFrame(
        {
            "rule": ["a"] * 3 + ["a_robust"] * 3,
            "seed": [0, 1, 2] * 2,
            "in_distribution": [10.0, 20.0, 30.0, 9.0, 18.0, 27.0],
            "worst_case": [1.0, 5.0, 3.0, 2.0, 7.0, 6.0],
            "worst_case_answering": [1.0, 5.0, 3.0, 2.0, 7.0, 6.0],
            "exploiter_gain": [0.0] * 6,
            "control: m": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
        }
    )
    table = pd.DataFrame(experiment.summarise(per_run)).set_index(["rule", "measure"])
    diff = table.loc[("a: robust - plain", "worst_case")]
    assert diff["mean"] == pytest.approx(2.0) and diff["n"] == 3  # (1 + 2 + 3) / 3
    assert table.loc[("a: robust - plain", "in_distribution")]["mean"] == pytest.approx(-2.0)
    assert table.loc[("a_robust", "control: m")]["mean"] == pytest.approx(2.0)


def test_the_pipeline_runs_end_to_end_on_a_tiny_budget_and_resumes(tmp_path, capsys):
    args = tiny_args(tmp_path, "public_goods_matching_planner")
    assert experiment.main(args) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    rules = set(summary["rule"])
    assert {
        "public_goods_matching_planner",
        "public_goods_matching_planner_robust",
        "public_goods_matching_planner: robust - plain",
    } <= rules
    measures = {"worst_case", "worst_case_answering", "in_distribution", "control: matching.rate"}
    assert measures <= set(summary["measure"])
    per_run = pd.read_csv(tmp_path / "per_run-public_goods_matching_planner.csv")
    assert len(per_run) == 4 and per_run["worst_population"].notna().all()
    by_population = pd.read_csv(tmp_path / "populations-public_goods_matching_planner.csv")
    assert set(experiment.HELD_OUT) <= set(by_population["population"])
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["held_out"] == experiment.HELD_OUT and settings["iterations"] == 1
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    capsys.readouterr()
    assert experiment.main(args) == 0  # again: nothing is trained twice
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == runs
    assert "trained" not in capsys.readouterr().err


def test_the_movable_mix_keeps_the_populations_the_rule_moves_decided_from_data():
    plain = sc.load("public_goods_institution_planner")
    kept, grid, test = experiment.movable_mix(plain, episodes=4)
    # contributors that read contributions only give the same under every fine and threshold
    assert kept == ["best_responders", "hurdle_low", "quantal_noisy"]
    blind = test.set_index("population").loc["conditional_cooperators"]
    assert blind["range"] == 0 and not blind["movable"]
    rules = plain.planner.rate_levels**2  # the planner's own grid over its two controls
    assert len(grid) == rules * len(experiment.CANDIDATE_MIX)
    twin = experiment.robust_twin(plain, "worst", populations=kept, tag="movable")
    assert twin.name == f"{plain.name}_robust_movable_worst"
    assert twin.planner.populations == kept
    assert not set(kept) & set(experiment.HELD_OUT)


def test_the_movable_mix_never_draws_on_the_held_out_suite():
    assert not set(experiment.CANDIDATE_MIX) & set(experiment.HELD_OUT)
    with pytest.raises(ValueError, match="held out"):
        experiment.movable_mix(sc.load("public_goods_institution_planner"), ["hurdle_high"])


def test_the_movable_mix_runs_end_to_end_and_saves_its_grid(tmp_path):
    args = tiny_args(
        tmp_path,
        "public_goods_institution_planner",
        "--mix",
        "movable",
        "--robust-objective",
        "worst",
    )
    assert experiment.main(args) == 0
    name = "public_goods_institution_planner"
    assert set(pd.read_csv(tmp_path / "summary.csv")["rule"]) >= {
        f"{name}: robust movable worst - plain"
    }
    test = pd.read_csv(tmp_path / f"movable-{name}.csv")
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["mix"] == "movable"
    assert settings["training_mix"][name] == test.loc[test["movable"], "population"].tolist()
    assert (tmp_path / f"grid-{name}.csv").is_file()


def test_the_crowding_suite_runs_end_to_end_and_holds_out_strong_crowding(tmp_path):
    args = tiny_args(tmp_path, "public_goods_institution_planner", "--suite", "crowding")
    assert experiment.main(args) == 0
    name = "public_goods_institution_planner"
    assert f"{name}: robust crowding - plain" in set(pd.read_csv(tmp_path / "summary.csv")["rule"])
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["suite"] == "crowding"
    assert settings["held_out"] == experiment.HELD_OUT_CROWDING
    assert settings["training_mix"][name] == experiment.TRAINING_MIX_CROWDING
    by_population = pd.read_csv(tmp_path / f"populations-{name}.csv")
    assert "crowding_strong" in set(by_population["population"])
    assert "crowding_mild" not in set(by_population["population"])


def test_the_vote_moves_rule_blind_contributors_and_answering_keeps_the_responders_only():
    plain = sc.load("democratic_ai_planner")
    kept, _, test = experiment.movable_mix(plain, episodes=4)
    # a conditional cooperator's contribution ignores w and v, but its vote does not
    assert "conditional_cooperators" in kept
    answering, _, _ = experiment.movable_mix(plain, episodes=4, answering=True)
    assert answering == ["best_responders", "hurdle_low", "quantal_noisy"]
    assert all(experiment.answers_rule(name) for name in answering)
