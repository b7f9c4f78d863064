"""Rules as the unit: grouping, labels, intervals over seeds, net welfare for every rule."""

from __future__ import annotations

import numpy as np
import pytest

from coopsim import scenario
from coopsim.analysis.rules import format_rules, group_rules, per_episode, rules_table, wide
from coopsim.cli import main
from coopsim.record import load_run
from coopsim.runner import run_scenario
from tests.demo_runs import tiny_demo


@pytest.fixture(scope="module")
def demo_paths(tmp_path_factory):
    return tiny_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_runs(demo_paths):
    return [load_run(p) for by_seed in demo_paths.values() for p in by_seed.values()]


def test_runs_group_into_one_rule_per_arm_with_short_distinct_labels(demo_runs):
    rules = group_rules(demo_runs)
    assert len(rules) == 5 and all(len(r.runs) == 2 for r in rules)
    labels = [r.label for r in rules]
    assert len(set(labels)) == 5
    assert "no mechanism" in labels and "matching 4:1" in labels
    assert any(label.startswith("matching, planner-chosen (") for label in labels)
    assert any(label.startswith("institution fine 1.5") for label in labels)
    assert all(len(label) <= 45 for label in labels)
    planner = next(r for r in rules if r.controls)
    chosen = {v for seed in planner.chosen for v in seed}
    assert planner.label == f"matching, planner-chosen ({'/'.join(f'{v:g}' for v in chosen)})"
    assert planner.objective == "net_welfare"


def test_intervals_are_over_training_seeds(demo_runs):
    table = rules_table(demo_runs)
    assert set(table["units"]) == {"training seeds"} and set(table["n"]) == {2}
    rule = group_rules(demo_runs)[1]
    row = table[(table["rule"] == rule.label) & (table["measure"] == "productivity")].iloc[0]
    means = [r.summary["metrics"]["productivity"]["mean"] for r in rule.runs]
    assert row["mean"] == pytest.approx(np.mean(means))
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    for _, r in table.iterrows():  # inside each measure's range
        if r["measure"] in ("equality", "gini", "contribution_rate"):
            assert 0.0 <= r["ci_low"] <= r["ci_high"] <= 1.0


def test_one_seed_falls_back_to_episodes_and_says_so(demo_paths):
    runs = [load_run(by_seed[0]) for by_seed in demo_paths.values()]
    table = rules_table(runs)
    assert set(table["units"]) == {"evaluation episodes"}
    episodes = runs[0].summary["episodes"]
    assert set(table["n"]) == {episodes}


def test_net_welfare_for_every_public_goods_rule(demo_runs):
    table = rules_table(demo_runs)
    assert table.attrs["sponsor_cost"] == 1.8  # the planner's stated cost
    w = wide(table).set_index("rule")
    assert w["net_welfare"].notna().all()
    no_sponsor = [label for label in w.index if not label.startswith("matching")]
    for label in no_sponsor:  # nobody pays from outside: net welfare is welfare
        assert w.loc[label, "net_welfare"] == pytest.approx(w.loc[label, "utilitarian_welfare"])
    fixed = w.loc["matching 4:1"]
    assert fixed["net_welfare"] < fixed["utilitarian_welfare"]  # its sponsor's money counted
    own = table[table["measure"] == "objective"].set_index("rule")  # each rule's own, named
    planner = [label for label in own.index if "planner" in label]
    assert len(planner) == 1
    assert own.loc[planner[0], "label"] == "objective (net welfare)"
    assert set(own.drop(index=planner)["label"]) == {"objective (equality x productivity)"}
    # the planner's objective, as its evaluation measured it, is the net welfare derived here
    assert own.loc[planner[0], "mean"] == pytest.approx(w.loc[planner[0], "net_welfare"])
    # as text, the block says the objectives differ and each line names its own
    text = format_rules(table, ["objective"])
    assert "each rule's own, not comparable" in text
    lines = [line for line in text.splitlines() if line.startswith("  ")]
    assert len(lines) == len(own)
    assert all(line.endswith(own.loc[r, "label"]) for r, line in zip(own.index, lines))
    outlay = w.loc["matching 4:1", "sponsor_outlay"]
    assert fixed["utilitarian_welfare"] - 1.8 * outlay == pytest.approx(fixed["net_welfare"])


def test_net_welfare_equals_what_a_planner_is_paid(tmp_path):
    """The outlay read from a run's transfers is the one the planner's objective charged."""
    path = run_scenario(
        scenario.load("public_goods_matching_planner"), out=tmp_path, episodes=4, iterations=1
    )
    run = load_run(path)
    frame = per_episode(run, cost=run.scenario["planner"]["sponsor_cost"])
    np.testing.assert_allclose(frame["net_welfare"], frame["objective"], rtol=1e-5)


def test_compare_by_rule_is_the_default(demo_paths, capsys):
    paths = [str(p) for by_seed in demo_paths.values() for p in by_seed.values()]
    assert main(["compare", *paths]) == 0
    out = capsys.readouterr().out
    assert "matching 4:1" in out and "net welfare" in out and "n = 2 training seeds" in out
    assert main(["compare", "--by", "run", *paths[:2]]) == 0
    assert "over evaluation episodes" in capsys.readouterr().out


def test_the_demo_names_its_rules_as_compare_does(demo_paths, demo_runs):
    from coopsim.analysis.demo_findings import by_rule

    named = by_rule(demo_paths)
    assert sorted(named) == sorted(r.label for r in group_rules(demo_runs))
    assert named["matching 4:1"] == demo_paths["matching funds"]


def test_wide_keeps_the_stress_tests_columns_beside_each_measure():
    """A worst case is read against the in-distribution value of the same stress test, so the
    wide table keeps that value (and the worst population) beside the worst case."""
    import pandas as pd

    rows = [
        # rule, measure, mean, worst case, worst population, stress test's in-distribution
        ("a", "objective", 10.0, 4.0, "free_riders", 9.0),
        ("a", "gini", 0.2, 0.5, "fgf2001", 0.25),
        ("b", "objective", 7.0, np.nan, "", np.nan),  # not covered by the stress test
    ]
    table = pd.DataFrame(
        [
            {"rule": r, "measure": m, "mean": mean, "ci_low": mean - 1, "ci_high": mean + 1,
             "std": 0.5, "n": 3, "units": "training seeds", "seeds": 3, "worst_case": worst,
             "worst_population": who, "stress_in_distribution": home}
            for r, m, mean, worst, who, home in rows
        ]
    )  # fmt: skip
    w = wide(table).set_index("rule")
    assert w.loc["a", "objective_stress_in_distribution"] == 9.0
    assert w.loc["a", "gini_stress_in_distribution"] == 0.25
    assert w.loc["a", "objective_worst_case"] == 4.0
    assert w.loc["a", "objective_worst_population"] == "free_riders"
    assert w.loc["a", "gini_worst_population"] == "fgf2001"
    assert np.isnan(w.loc["b", "objective_stress_in_distribution"])
    assert w.loc["b", "objective"] == 7.0
    plain = wide(table.drop(columns=["worst_case", "worst_population", "stress_in_distribution"]))
    assert not [c for c in plain.columns if "worst" in c or "stress" in c]


def test_the_economy_regimes_are_named_by_their_tax_schedules():
    """A tax is named by its schedule, not by a dump of its parameters (memory, rates)."""
    from pathlib import Path

    import pandas as pd

    from coopsim.analysis.rules import Rule, rule_labels
    from coopsim.record import RunData

    names = ["economy_free_market", "economy_us_federal", "economy_saez", "economy_ai_planner"]
    rules = [
        Rule(
            key=name,
            runs=(
                RunData(
                    path=Path(name),
                    summary={"scenario": name},
                    scenario=scenario.load(name).to_dict(),
                    episodes=pd.DataFrame(),
                ),
            ),
        )
        for name in names
    ]
    free, federal, saez, planner = rule_labels(rules)
    assert free == "no tax + rebate"
    assert federal == "US federal tax + rebate"
    assert saez == "Saez tax + rebate"
    assert planner.startswith("tax, planner-chosen (") and planner.endswith(") + rebate")


def test_a_tax_is_named_by_its_schedule():
    from coopsim.analysis.rules import _tax_words

    assert _tax_words({"schedule": "flat", "rates": [0.2]}) == "flat tax 0.2"
    assert _tax_words({"schedule": "custom", "rates": [0.0, 0.0]}) == "no tax"
    assert _tax_words({"schedule": "custom", "rates": [0.1, 0.25]}) == "tax rates 0.1/0.25"
    assert _tax_words({"schedule": "saez", "rates": [0.0]}) == "Saez tax"


def _unrun(name: str, data: dict | None = None, seed: int = 0):
    """A run of scenario ``name`` as grouping and labelling read it (no episodes needed)."""
    from pathlib import Path

    import pandas as pd

    from coopsim.record import RunData

    return RunData(
        path=Path(f"{name}-s{seed}"),
        summary={"scenario": name, "seed": seed},
        scenario=data or scenario.load(name).to_dict(),
        episodes=pd.DataFrame(),
    )


def test_rules_come_in_the_demos_order_whatever_order_the_runs_came_in():
    """No rule first, fixed rules in the order `coopsim demo` prints them, the planner's last;
    the same order for every order of the runs, with other rules placed by their kind and,
    among rules of one kind, by label with numbers compared as numbers."""
    import random

    from coopsim.analysis.rules import order_key, rule_tier
    from coopsim.experiments.demo import ARMS

    demo = [arm.scenario for arm in ARMS.values()]
    runs = [_unrun(name, seed=seed) for name in demo for seed in (0, 1)]
    scripted = ["public_goods", "public_goods_matching", "public_goods_punishment"]
    runs += [_unrun(name) for name in scripted]
    for rate in (10, 2):  # a matching rate of 10 after one of 2, not before it as text would
        data = scenario.load("public_goods_learning_matching").to_dict()
        data["mechanisms"][0]["rate"] = rate
        runs.append(_unrun(f"matching_{rate}", data))
    orders = []
    for seed in range(4):
        shuffled = list(runs)
        random.Random(seed).shuffle(shuffled)
        orders.append([r.label for r in group_rules(shuffled)])
    assert all(order == orders[0] for order in orders[1:])

    rules = group_rules(runs)
    assert [r.label for r in rules] == orders[0]
    assert rules == sorted(rules, key=order_key)
    names = [r.scenarios[0] for r in rules]
    assert [n for n in names if n in demo] == demo  # the demo's rules as the demo prints them
    tiers = [rule_tier(r) for r in rules]
    assert tiers == sorted(tiers) and tiers[0] == 0 and tiers[-1] == 2
    assert names[0] == demo[0] and names[-1] == demo[-1]  # no rule first, the planner's last
    assert names.index("public_goods") < names.index("public_goods_learning_matching")
    # other matching rules stand with the demo's, before the institution, numbers as numbers
    matching = [
        n for n in names if "matching" in n and n != ARMS["planner-designed matching"].scenario
    ]
    assert names.index(matching[-1]) < names.index("public_goods_learning_institution")
    assert names.index("matching_2") < names.index("public_goods_learning_matching")  # 2 < 4
    assert names.index("public_goods_learning_matching") < names.index("matching_10")
    assert names.index("public_goods_punishment") > names.index("public_goods_learning_institution")
    for rule in rules:  # a rule's runs keep their order
        assert [r.summary["seed"] for r in rule.runs] == sorted(
            r.summary["seed"] for r in rule.runs
        )


def test_the_economy_regimes_come_in_the_regimes_tables_order_family_by_family():
    import random

    from coopsim.analysis.rules import rule_tier
    from coopsim.experiments.regimes import FAMILIES, family_regimes

    names = [n for family in FAMILIES for n in family_regimes(family).values()]
    shuffled = list(names)
    random.Random(1).shuffle(shuffled)
    rules = group_rules([_unrun(n) for n in shuffled])
    assert [r.scenarios[0] for r in rules] == names
    assert [rule_tier(r) for r in rules] == [0, 1, 1, 2] * len(FAMILIES)


def test_a_rule_that_changes_nothing_is_the_baseline():
    from coopsim.analysis.rules import Rule, rule_tier

    def tier(mechanisms, planner=None):
        data = {"world": {"kind": "public_goods"}, "mechanisms": mechanisms}
        if planner:
            data["planner"] = planner
        return rule_tier(Rule("k", (_unrun("x", data),)))

    assert tier([]) == 0
    assert (
        tier([{"kind": "tax", "schedule": "custom", "rates": [0.0, 0.0]}, {"kind": "lump_sum"}])
        == 0
    )
    assert tier([{"kind": "tax", "schedule": "custom", "rates": [0.0, 0.1]}]) == 1
    assert tier([{"kind": "lump_sum"}, {"kind": "matching", "rate": 1.0}]) == 1
    assert tier([{"kind": "matching", "rate": 1.0}], {"controls": ["matching.rate"]}) == 2


def test_only_planners_paid_net_welfare_set_the_sponsors_cost():
    """A tax planner (paid equality x productivity) keeps the default cost of 1 in its resolved
    scenario; beside the demo's planner (1.8) that is no clash: the tour's `coopsim report
    runs/*` after `coopsim demo` and `coopsim run tax_one_step_ai_planner` reports."""
    from coopsim.analysis.rules import sponsor_cost

    demo, tax = _unrun("demo_planner_matching"), _unrun("tax_one_step_ai_planner")
    assert tax.scenario["planner"]["sponsor_cost"] == 1.0  # stated, though unused
    assert demo.scenario["planner"]["sponsor_cost"] == 1.8
    rules = group_rules([demo, tax])
    assert sponsor_cost(rules) == 1.8
    assert rules_table([demo, tax], ["utilitarian_welfare"]).attrs["sponsor_cost"] == 1.8
    cheaper = scenario.load("demo_planner_matching").to_dict()
    cheaper["planner"]["sponsor_cost"] = 1.0  # paid net welfare at another cost: a clash
    with pytest.raises(ValueError, match=r"different sponsor costs \(\[1.0, 1.8\]\)"):
        sponsor_cost(group_rules([demo, _unrun("cheaper", cheaper)]))


def test_rules_keep_an_order_without_the_shipped_scenarios(tmp_path, monkeypatch):
    """With a scenarios folder of one's own, the demo's scenarios are not there to read the
    order from: tables still come, rules in their labels' order, no rule first."""
    from coopsim.analysis.rules import shipped_order

    runs = [
        _unrun(n) for n in ("public_goods_learning_punishment", "public_goods_learning_baseline")
    ]
    runs.append(_unrun("public_goods_learning_institution"))
    monkeypatch.setattr(scenario, "SCENARIO_DIR", tmp_path)
    shipped_order.cache_clear()
    try:
        assert shipped_order() == ((), ())
        labels = [r.label for r in group_rules(runs)]
    finally:
        shipped_order.cache_clear()  # the next caller reads the shipped folder again
    assert labels[0] == "no mechanism"
    assert labels[1:] == sorted(labels[1:])
