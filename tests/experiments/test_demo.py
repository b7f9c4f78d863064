from pathlib import Path

from coopsim.experiments import demo


def test_every_arm_is_a_learning_scenario_on_the_same_budget():
    from coopsim import scenario as sc

    scenarios = [sc.load(name) for name in demo.ARMS.values()]
    assert all(s.learns for s in scenarios)
    assert list(demo.ARMS)[0] == demo.BASELINE and not scenarios[0].mechanisms
    budgets = {(s.training.iterations, s.training.num_worlds, s.training.gamma) for s in scenarios}
    assert len(budgets) == 1, budgets


def test_run_reports_every_run_and_orders_by_arm_then_seed(monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "run_arm", lambda name, seed, out: Path(f"{out}/{name}-s{seed}"))
    paths = demo.run(
        out="x", seeds=(2, 0), workers=1, on_run=lambda *a: calls.append(a), arms={"a": "A"}
    )
    assert paths == {"a": {2: Path("x/A-s2"), 0: Path("x/A-s0")}}
    assert calls == [("a", 2, Path("x/A-s2")), ("a", 0, Path("x/A-s0"))]
