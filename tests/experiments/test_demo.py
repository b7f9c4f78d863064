from pathlib import Path

from coopsim.experiments import demo


def test_every_arm_is_a_learning_scenario_and_the_fixed_rules_share_a_budget():
    from coopsim import scenario as sc

    scenarios = {label: sc.load(arm.scenario) for label, arm in demo.ARMS.items()}
    assert all(s.learns for s in scenarios.values())
    assert list(demo.ARMS)[0] == demo.BASELINE and not scenarios[demo.BASELINE].mechanisms
    fixed = [label for label, arm in demo.ARMS.items() if not arm.planner]
    budgets = {
        (demo.ARMS[label].iterations, scenarios[label].training.num_worlds) for label in fixed
    }
    assert len(budgets) == 1, budgets
    designed = [label for label, arm in demo.ARMS.items() if arm.planner]
    assert designed and all(scenarios[label].planner is not None for label in designed)
    assert all(scenarios[label].planner is None for label in fixed)


def test_planner_arms_start_first_then_arm_by_arm():
    arms = {"a": demo.Arm("A", 1), "p": demo.Arm("P", 1, planner=True), "b": demo.Arm("B", 1)}
    order = [(label, seed) for label, _, seed in demo.jobs(arms, (0, 1))]
    assert order == [("p", 0), ("p", 1), ("a", 0), ("a", 1), ("b", 0), ("b", 1)]


def test_run_reports_every_run_and_orders_by_arm_then_seed(monkeypatch):
    calls = []
    monkeypatch.setattr(
        demo, "run_arm", lambda arm, seed, out: Path(f"{out}/{arm.scenario}-s{seed}")
    )
    paths = demo.run(
        out="x",
        seeds=(2, 0),
        workers=1,
        on_run=lambda *a: calls.append(a),
        arms={"a": demo.Arm("A", 1)},
    )
    assert paths == {"a": {2: Path("x/A-s2"), 0: Path("x/A-s0")}}
    assert calls == [("a", 2, Path("x/A-s2")), ("a", 0, Path("x/A-s0"))]


def test_workers_default_to_the_cores_this_process_may_use():
    assert 1 <= demo.default_workers() <= (__import__("os").cpu_count() or 1)
