"""The planner's books: period sums, the income it observes, and the group baseline."""

from __future__ import annotations

import pytest
import torch

from coopsim import metrics
from coopsim.config.planner import PlannerConfig
from coopsim.credit import PlannerCredit
from coopsim.envs.base import Step

CPU = torch.device("cpu")


def step(net, reward=None, income=None, done=False, round_end=True) -> Step:
    net = torch.tensor(net, dtype=torch.float32)  # [B, N]
    info = {"gross": net + 1, "net": net}
    if income is not None:
        info["income"] = torch.tensor(income, dtype=torch.float32)
    reward = net if reward is None else torch.tensor(reward, dtype=torch.float32)
    b, n = net.shape
    return Step(
        torch.zeros(b, n, 1), reward, torch.full((b,), done), info if round_end else {}, round_end
    )


def test_a_period_is_paid_the_objective_of_what_agents_kept_during_it():
    credit = PlannerCredit(PlannerConfig(period=2), batch_size=1, num_agents=2, device=CPU)
    assert credit.decision_due
    assert credit.add(step([[1.0, 3.0]], income=[[5.0, 0.0]])) is None
    assert not credit.decision_due
    paid = credit.add(step([[2.0, 0.0]], income=[[1.0, 2.0]]))
    kept = torch.tensor([[3.0, 3.0]])
    assert torch.equal(paid, metrics.equality_times_productivity(kept))  # equal: 1 x 6
    assert paid.tolist() == [6.0]
    assert credit.income.tolist() == [[6.0, 2.0]]  # what the next decision observes
    assert credit.decision_due and credit.mean_objective() == 6.0


def test_a_stage_without_payoffs_counts_as_a_step_but_adds_nothing():
    credit = PlannerCredit(PlannerConfig(period=2), 1, 2, CPU)
    assert credit.add(step([[9.0, 9.0]], round_end=False)) is None
    paid = credit.add(step([[1.0, 1.0]]))
    assert paid.tolist() == [2.0]
    assert credit.income.tolist() == [[2.0, 2.0]]  # gross, where no income is reported


def test_the_episode_end_closes_a_period_early_and_a_new_episode_forgets_income():
    credit = PlannerCredit(PlannerConfig(period=100), 1, 2, CPU)
    assert credit.add(step([[1.0, 1.0]], done=True)) is not None
    assert credit.decision_due and credit.income.sum() > 0
    credit.new_episode()
    assert credit.income.tolist() == [[0.0, 0.0]]


def test_welfare_objectives_read_utility_the_rewards_summed():
    cfg = PlannerConfig(period=2, objective="utilitarian")
    credit = PlannerCredit(cfg, 1, 2, CPU)
    credit.add(step([[5.0, 5.0]], reward=[[1.0, -1.0]]))
    paid = credit.add(step([[5.0, 5.0]], reward=[[2.0, 0.5]]))
    assert paid.tolist() == [2.5]


def test_each_decision_is_paid_against_its_group_mean():
    credit = PlannerCredit(PlannerConfig(group_size=2), batch_size=4, num_agents=2, device=CPU)
    paid = credit.add(step([[1.0, 1.0], [3.0, 3.0], [2.0, 2.0], [2.0, 2.0]]))
    assert paid.tolist() == [-2.0, 2.0, 0.0, 0.0]  # objectives 2, 6 | 4, 4
    assert credit.objectives[0].tolist() == [2.0, 6.0, 4.0, 4.0]  # logged before the baseline
    assert credit.mean_objective() == 4.0


def test_groups_must_divide_the_worlds():
    with pytest.raises(ValueError, match="group_size 3 does not divide the 4 worlds"):
        PlannerCredit(PlannerConfig(group_size=3), 4, 2, CPU)


def test_a_vote_is_paid_by_how_each_seat_votes():
    # worlds 0 (the planner's) and 1 (its baseline twin): the rule pays the rich seat 14.08
    # and a poor one 3.84 against 10 and 2; a poor seat with Fehr-Schmidt alpha 4 votes no
    cfg = PlannerConfig(period=1, objective="votes")
    credit = PlannerCredit(cfg, batch_size=2, num_agents=2, device=CPU)
    rule, base = [14.08, 3.84], [10.0, 2.0]
    assert credit.add(step([rule, base])).tolist() == [1.0]  # both better off in coin
    aversion = torch.tensor([[0.0, 0.6], [4.0, 0.0]]).expand(2, 2, 2)  # the same seats in twins
    credit.aversion = aversion
    # the poor seat: 3.84 - 4 x 10.24 = -37.1 < 2 - 4 x 8 = -30 (N - 1 = 1); the rich seat:
    # 14.08 - 0.6 x 10.24 = 7.94 > 10 - 0.6 x 8 = 5.2
    assert credit.add(step([rule, base])).tolist() == [0.5]
