"""The planner: curriculum, masking and schedules by hand; then a planner that learns a tax."""

from __future__ import annotations

import time

import pytest
import torch

from coopsim import scenario as sc
from coopsim.agents.planner import Planner, PlannerConfig
from coopsim.analysis import optimal_schedule
from coopsim.analysis.optimal import equilibrium
from coopsim.measures import social_objective
from coopsim.schema import ConfigError
from coopsim.train import Trainer, TrainingConfig, evaluate_trained, planner_schedule
from mechanisms.brackets import bracket_tax

US_RATES = [0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37]


def small(name: str, **planner) -> sc.Scenario:
    scenario = sc.load(name)
    scenario.training.num_worlds = 8
    for key, value in planner.items():
        setattr(scenario.planner, key, value)
    return scenario


def test_planner_takes_the_training_config():
    # The trainer hands its TrainingConfig (PPO settings plus the budget) to the planner.
    cfg = PlannerConfig(learning_rate=0.02, hidden=8)
    planner = Planner(cfg, 4, 7, 10, ppo=TrainingConfig(update_epochs=3, learning_rate=0.5))
    assert planner.learner.config.learning_rate == 0.02  # the planner's own
    assert planner.learner.config.update_epochs == 3  # the training run's
    assert planner.spec.action_nvec == (21,) * 7 and planner.spec.obs_dim == 4 + 7 + 1


def test_planner_passes_default_to_the_agents_and_can_be_its_own():
    # A planner deciding once per tax period sees few samples an iteration: it may take more
    # passes over them than the agents take over theirs.
    agents = TrainingConfig(update_epochs=1)
    assert Planner(PlannerConfig(), 4, 7, 10, ppo=agents).learner.config.update_epochs == 1
    own = Planner(PlannerConfig(update_epochs=4), 4, 7, 10, ppo=agents)
    assert own.learner.config.update_epochs == 4
    plain = sc.load("economy_paper_ai_planner").to_dict()
    plain["planner"]["update_epochs"] = 0
    with pytest.raises(ConfigError, match=r"planner\.update_epochs"):
        sc.from_dict(plain)


def test_planner_minibatches_and_low_rate_prior():
    cfg = PlannerConfig(num_minibatches=1, low_rate_prior=5.0)
    planner = Planner(cfg, 4, 7, 10, ppo=TrainingConfig(num_minibatches=8))
    assert planner.learner.config.num_minibatches == 1
    assert (
        Planner(
            PlannerConfig(), 4, 7, 10, ppo=TrainingConfig(num_minibatches=8)
        ).learner.config.num_minibatches
        == 8
    )
    planner.set_cap(1.0)
    logits, _ = planner.learner.forward(torch.zeros(1, 1, 4 + 7 + 1))
    for head in logits:  # the output layer starts near zero, so the prior decides the odds
        p = head[0, 0].detach().softmax(-1)
        assert float(p[0] / p[-1]) == pytest.approx(float(torch.tensor(5.0).exp()), rel=0.1)
        assert (p[1:] < p[:-1]).all()  # less likely as the rate rises


def test_curriculum_by_hand():
    cfg = PlannerConfig(phase1_iterations=10, anneal_iterations=20, initial_max_rate=0.2)
    planner = Planner(cfg, 2, 3, 100)
    assert planner.cap_at(0) is None and planner.cap_at(9) is None  # phase 1: no tax
    assert planner.cap_at(10) == pytest.approx(0.2)
    assert planner.cap_at(20) == pytest.approx(0.2 + 0.5 * 0.8)
    assert planner.cap_at(30) == pytest.approx(1.0) and planner.cap_at(99) == pytest.approx(1.0)


def test_capped_rates_are_never_chosen():
    planner = Planner(PlannerConfig(), 2, 3, 10)
    planner.set_cap(0.25)
    obs = planner.observe(torch.rand(500, 2) * 100, torch.rand(500, 3))
    assert obs.shape == (500, 1, 2 + 3 + 1) and bool((obs[..., -1] == 0.25).all())
    actions, _, _ = planner.learner.step(obs)
    rates = planner.rates_of(actions)  # [B, K]
    assert rates.shape == (500, 3) and float(rates.max()) <= 0.25 + 1e-6
    assert torch.isin(rates, planner.grid[:6]).all()  # 0, 0.05, ..., 0.25


def test_observation_by_hand():
    planner = Planner(PlannerConfig(), 2, 2, 10)
    planner.set_cap(0.5)
    obs = planner.observe(torch.tensor([[0.0, 9.0]]), torch.tensor([[0.1, 0.3]]))
    assert obs[0, 0].tolist() == pytest.approx(
        [0.0, float(torch.log(torch.tensor(10.0))), 0.1, 0.3, 0.5]
    )


def test_social_objective_by_hand():
    coin = torch.tensor([[1.0, 3.0]])
    utility = torch.tensor([[2.0, -1.0]])
    # equality = 1 - gini * N / (N - 1); gini of (1, 3) = 2 / (2 * 4 * 2) * 2 = 0.25
    assert social_objective("equality_times_productivity", coin, utility).item() == pytest.approx(
        (1 - 0.25 * 2) * 4.0
    )
    assert social_objective("utilitarian", coin, utility).item() == pytest.approx(1.0)
    assert social_objective("rawls", coin, utility).item() == pytest.approx(-1.0)
    mix = social_objective("mix", coin, utility, {"utilitarian": 2.0, "rawls": 1.0})
    assert mix.item() == pytest.approx(2.0 * 1.0 - 1.0)


def test_schedule_is_zero_until_the_planner_acts_then_its_most_likely_rates():
    trainer = Trainer(small("tax_one_step_ai_planner", phase1_iterations=5), iterations=6)
    assert planner_schedule(trainer).tolist() == [0.0] * 7  # phase 1: the tax is held at zero
    # A planner whose every head prefers grid level 3 (0.15) unless capped below it.
    planner = trainer.planner
    with torch.no_grad():
        planner.learner.net.actor.weight.zero_()
        planner.learner.net.actor.bias.zero_()
        planner.learner.net.actor.bias.view(7, 21)[:, 3] = 5.0
    planner.set_cap(1.0)
    assert planner_schedule(trainer).tolist() == pytest.approx([0.15] * 7)
    planner.set_cap(0.1)
    assert float(planner_schedule(trainer).max()) <= 0.1 + 1e-6


def test_agents_decide_under_the_rates_the_planner_just_set():
    """In a one-step economy the observation made at reset predates the planner's rates."""
    trainer = Trainer(small("tax_one_step_ai_planner", phase1_iterations=0), iterations=1)
    learner = trainer.learners[0][0]
    seen = []
    step = learner.step
    learner.step = lambda obs, *rest: (seen.append(obs), step(obs, *rest))[1]
    trainer.train_iteration()
    k = trainer.world.pipeline.find(
        "tax"
    ).num_brackets  # then each agent's marginal rate and income
    rates = seen[0][..., trainer.world.spec.obs_fields["mechanisms"]][..., :k]  # [B, N, K]
    assert torch.equal(rates, trainer.world.pipeline.find("tax").rates[:, None, :].expand_as(rates))
    assert float(trainer.world.pipeline.find("tax").rates.max()) > 0  # the planner did set some


def test_evaluate_trained_taxes_at_the_planners_schedule():
    trainer = Trainer(small("tax_one_step_ai_planner", phase1_iterations=0), iterations=2)
    trainer.train()
    schedule = planner_schedule(trainer)
    result = evaluate_trained(trainer, episodes=16)
    frame = result.episodes
    income = torch.tensor(frame["income"].to_numpy(), dtype=torch.float32)[None]
    tax = bracket_tax(income, trainer.world.pipeline.find("tax").cutoffs, schedule[None])[0]
    assert torch.allclose(torch.tensor(-frame["transfer_tax"].to_numpy()), tax, atol=1e-4)


def test_a_restored_trainer_reads_off_the_same_schedule():
    scenario = small("tax_one_step_ai_planner", phase1_iterations=0)
    trainer = Trainer(scenario, iterations=3)
    trainer.train()
    restored = Trainer(scenario, iterations=3)
    restored.load_state_dict(trainer.state_dict())
    assert restored.planner_obs is not None
    assert torch.equal(planner_schedule(restored), planner_schedule(trainer))


def test_evaluate_trained_carries_a_saez_schedule_over():
    scenario = sc.load("tax_one_step_saez")
    scenario.training.num_worlds = 8
    trainer = Trainer(scenario, iterations=3)
    rows = trainer.train()
    learned = trainer.world.pipeline.mechanisms[0]
    assert float(learned.rates.max()) > 0  # the schedule moved away from its zero start
    # logged like a planner's rates, for the run's tables and figures
    assert [rows[-1][f"rate_{k}"] for k in range(7)] == learned.rates[0].tolist()
    assert rows[-1]["elasticity"] == learned.saez.elasticity
    result = evaluate_trained(trainer, episodes=16)
    frame = result.episodes
    income = torch.tensor(frame["income"].to_numpy(), dtype=torch.float32)[None]
    tax = bracket_tax(income, learned.cutoffs, learned.rates[:1])[0]
    assert torch.allclose(torch.tensor(-frame["transfer_tax"].to_numpy()), tax, atol=1e-4)
    # and the checkpoint keeps what it learned
    state = trainer.state_dict()
    again = Trainer(scenario, iterations=3)
    again.load_state_dict(state)
    restored = again.world.pipeline.mechanisms[0]
    assert torch.equal(restored.rates, learned.rates)
    assert restored.saez.size == learned.saez.size


# -- learning --------------------------------------------------------------------------------
def train_and_evaluate(name: str, iterations: int | None = None) -> tuple[float, Trainer, float]:
    """Train a scenario, evaluate the trained population: (objective, trainer, seconds)."""
    start = time.perf_counter()
    trainer = Trainer(sc.load(name), iterations=iterations)
    trainer.train()
    objective = evaluate_trained(trainer).summary["objective"]["mean"]
    return objective, trainer, time.perf_counter() - start


@pytest.fixture(scope="module")
def baselines() -> dict[str, tuple[float, Trainer, float]]:
    """The free market and the US schedule, each with agents trained under it."""
    return {
        "free market": train_and_evaluate("tax_one_step_free_market", 150),
        "US federal": train_and_evaluate("tax_one_step_us_federal", 150),
    }


@pytest.mark.slow
@pytest.mark.parametrize(("name", "rates"), [("free market", [0.0] * 7), ("US federal", US_RATES)])
def test_agents_learn_best_responses(baselines, name, rates):
    objective, trainer, seconds = baselines[name]
    eq = equilibrium(trainer.scenario, rates)  # exact best responses to each other
    hours = evaluate_trained(trainer).episodes.groupby("agent")["labour"].mean()
    print(f"{name}: learned hours {hours.round(1).tolist()}, Nash {eq.info['labour'][0].tolist()}")
    assert hours.to_numpy() == pytest.approx(eq.info["labour"][0].numpy(), abs=5.0)
    assert objective == pytest.approx(float(eq.objective[0]), rel=0.03)


@pytest.mark.slow
def test_learned_planner_beats_free_market_and_us_and_nears_the_optimum(baselines):
    scenario = sc.load("tax_one_step_ai_planner")
    best = optimal_schedule(scenario)
    learned, trainer, seconds = train_and_evaluate("tax_one_step_ai_planner")
    schedule = planner_schedule(trainer)
    # the learned schedule, were the agents exactly rational
    rational = float(equilibrium(scenario, schedule).objective[0])
    free, us = baselines["free market"][0], baselines["US federal"][0]
    print(
        f"one-step economy, equality x productivity: planner {learned:.1f} (in {seconds:.1f} s; "
        f"{rational:.1f} with exact best responses), free market {free:.1f}, US federal "
        f"{us:.1f}, optimum {best.objective:.1f}; learned rates {schedule.tolist()}, "
        f"optimal {best.rates}"
    )
    assert learned > free and learned > us
    assert learned >= 0.9 * best.objective
    # The schedule is good for rational agents too, not only for these learners.
    assert rational > float(equilibrium(scenario, [0.0] * 7).objective[0])
