"""The world kit catches each broken property: small public-goods worlds, each broken once."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from coopsim.conformance import check_world
from coopsim.envs import WORLDS
from coopsim.envs.base import Step, WorldSpec
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld
from mechanisms.params import param


@dataclass
class BrokenConfig(PublicGoodsConfig):
    kind: str = param("broken", help="World type", choices=("broken",))
    rounds: int = param(4, help="Rounds per episode", ge=1)


class Sound(PublicGoodsWorld):
    """The public-goods world under another kind, able to replicate: passes every check."""

    kind = "broken"

    def replicate(self, source: Tensor) -> Tensor:
        for name in ("last_contribution", "last_payoff"):
            setattr(self, name, getattr(self, name)[source].clone())
        self.pipeline.replicate(source)
        return self._observe()


class FlatReward(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.reward = step.reward.sum(-1)  # [B]: one number per world, not per agent
        return step


class NeverDone(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.done = torch.zeros_like(step.done)
        return step


class WrongHeadNames(Sound):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = WorldSpec(**{**self.spec.__dict__, "head_names": ("a", "b")})


class MasksEverything(Sound):
    def action_mask(self) -> Tensor:
        b, n = self.batch_size, self.spec.num_agents
        return torch.zeros(b, n, sum(self.spec.action_nvec), dtype=torch.bool)


class StaleObserve(Sound):
    def observe(self) -> Tensor:
        return torch.zeros(self.batch_size, self.spec.num_agents, self.spec.obs_dim)


class NoGross(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.info.pop("gross")
        return step


class UndeclaredInfo(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.info["bonus"] = torch.zeros_like(step.reward)
        return step


class NetIsNotGrossPlusTransfers(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.info["net"] = step.info["net"] + 1.0
        return step


class ReusesObsBuffer(Sound):
    def _observe(self) -> Tensor:
        obs = super()._observe()
        if not hasattr(self, "_buffer"):
            self._buffer = torch.empty_like(obs)
        return self._buffer.copy_(obs)


class UnseededNoise(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.reward = step.reward + torch.rand(step.reward.shape)  # not from world.gen
        return step


class IgnoresSeed(Sound):
    def reset(self, seed: int | None = None) -> Tensor:
        return super().reset(seed=0)


class ResetKeepsPayoff(Sound):
    def reset(self, seed: int | None = None) -> Tensor:
        kept = getattr(self, "last_payoff", None)
        obs = super().reset(seed)
        if kept is not None:
            self.last_payoff = kept
            obs = self._observe()
        return obs


class LeaksAcrossWorlds(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.reward = step.reward + 0.1 * actions[..., 0].float().mean()  # over every world
        return step


class DependsOnBatchSize(Sound):
    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        step.reward = step.reward + 0.01 * self.batch_size
        return step


class CopiesMissPayoff(Sound):
    def replicate(self, source: Tensor) -> Tensor:
        self.last_contribution = self.last_contribution[source].clone()
        return self._observe()


class HiddenSavings(Sound):
    """Rewards include interest on savings the agents do not observe."""

    def reset(self, seed: int | None = None) -> Tensor:
        self.savings = torch.zeros(self.batch_size, self.spec.num_agents)  # [B, N]
        return super().reset(seed)

    def step(self, actions: Tensor) -> Step:
        step = super().step(actions)
        self.savings = self.savings + step.reward
        step.reward = step.reward + 0.01 * self.savings
        return step


class CopiesForgetSavings(HiddenSavings):
    pass  # Sound.replicate leaves each world's savings where they were


class CopiesZeroSavings(HiddenSavings):
    def replicate(self, source: Tensor) -> Tensor:
        self.savings = torch.zeros_like(self.savings)
        return super().replicate(source)


@pytest.fixture
def register(monkeypatch):
    """Register a world class as kind 'broken' for one test (its info keys are the
    public-goods world's, which it inherits)."""

    def put(world_cls: type) -> None:
        monkeypatch.setitem(WORLDS, "broken", (BrokenConfig, world_cls))

    return put


def test_a_sound_world_passes_every_check_it_can(register):
    register(Sound)
    report = check_world("broken")
    assert {"batched equals single", "replicate", "replicate steps alike"} <= set(report.passed)
    assert report.skipped == {}


def test_a_stochastic_world_is_not_compared_with_single_worlds():
    report = check_world("economy", height=9, width=9, view_radius=2, episode_length=5)
    assert report.skipped["batched equals single"] == "its outcomes depend on the seed"
    assert "independence" in report.passed


@pytest.mark.parametrize(
    ("world_cls", "check", "detail"),
    [
        (FlatReward, "shapes", "step 0: reward has shape [3], declared [3, 4]"),
        (NeverDone, "shapes", "exactly at the horizon"),
        (WrongHeadNames, "spec", "2 head_names for 1 heads"),
        (MasksEverything, "shapes", "allows no choice at all in head 0"),
        (StaleObserve, "shapes", "observe() differs from the observation last returned"),
        (NoGross, "info schema", "info lacks ['gross']"),
        (UndeclaredInfo, "info schema", "info has ['bonus'], which UndeclaredInfo.info_keys"),
        (NetIsNotGrossPlusTransfers, "info schema", "net is not gross plus the transfers"),
        (ReusesObsBuffer, "outputs kept", "step 0's obs was changed"),
        (UnseededNoise, "seeds reproduce", "two fresh worlds reset with seed 11"),
        (IgnoresSeed, "seeds differ", "the seed is ignored"),
        (ResetKeepsPayoff, "reset", "mid-episode the world differs from a fresh one"),
        (LeaksAcrossWorlds, "independence", "other actions in world 0 changed world 1"),
        (DependsOnBatchSize, "batched equals single", "world 0 of 3 stepped in the batch"),
        (CopiesMissPayoff, "replicate", "world b does not observe what world source[b] did"),
        (CopiesZeroSavings, "replicate", "replicate(arange(B)) (every world onto itself)"),
        (
            CopiesForgetSavings,
            "replicate steps alike",
            "world 0, a copy of world 2, steps differently",
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_the_kit_names_the_world_the_property_and_what_differed(register, world_cls, check, detail):
    register(world_cls)
    with pytest.raises(AssertionError, match=re.escape(f"world 'broken': {check}: ")) as err:
        check_world("broken")
    assert detail in str(err.value)


def test_overrides_are_validated_as_a_scenarios_world_table_is():
    with pytest.raises(ValueError, match=r"world\.rounds"):
        check_world("public_goods", rounds=0)
    with pytest.raises(ValueError, match="unknown world kind 'nope'"):
        check_world("nope")
