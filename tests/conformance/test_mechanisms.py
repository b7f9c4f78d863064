"""The mechanism kit catches each broken property: a small learning levy, broken once each."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from coopsim.conformance import check_mechanism
from coopsim.conformance.mechanisms import Levy
from mechanisms import MECHANISMS
from mechanisms.base import Flow, Mechanism, RoundContext


@dataclass
class LevyParams:
    rate: float = 0.2


class Sound(Mechanism):
    """Takes a share of income into the pool: the share is a control per world, grows with
    the episode's income so far (reset forgets it) and with the rounds it has ever seen (a
    thing it learns, kept in its state_dict). Passes every check."""

    kind = "broken"
    Params = LevyParams
    summary = "A levy for the kit's tests."
    worlds = ("public_goods",)

    def __init__(self, params, num_agents, batch_size, device):
        super().__init__(params, num_agents, batch_size, device)
        self.rates = torch.full((batch_size, 1), params.rate)  # [B, 1]
        self.so_far = torch.zeros(batch_size, num_agents)  # [B, N] income this episode
        self.seen = torch.zeros(1)  # rounds ever seen

    def reset(self) -> None:
        self.so_far = torch.zeros_like(self.so_far)

    def share(self) -> Tensor:
        return self.rates + 0.001 * self.seen  # [B, 1]

    def apply(self, ctx: RoundContext) -> Flow:
        self.so_far = self.so_far + ctx.income
        take = self.share() * (ctx.income + 0.01 * self.so_far)  # [B, N]
        self.seen = self.seen + 1
        return Flow(-take, take.sum(-1), torch.zeros_like(ctx.pool))

    @classmethod
    def planner_refusal(cls, params) -> str | None:
        return None

    @property
    def num_controls(self) -> int:
        return 1

    @property
    def controls(self) -> Tensor:
        return self.rates

    def set_controls(self, values: Tensor) -> None:
        self.rates = values.expand(self.batch_size, 1).clone()

    def state_dict(self) -> dict:
        return {"seen": self.seen.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.seen = state["seen"].clone()

    def replicate(self, source: Tensor) -> None:
        self.rates = self.rates[source].clone()
        self.so_far = self.so_far[source].clone()


class Unbalanced(Sound):
    def apply(self, ctx: RoundContext) -> Flow:
        flow = super().apply(ctx)
        return Flow(flow.transfer + 1.0, flow.pool, flow.external)  # paid from nowhere


class ForgetsToReset(Sound):
    def reset(self) -> None:
        pass


class StateMissesWhatItLearned(Sound):
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class SavesLiveState(Sound):
    def apply(self, ctx: RoundContext) -> Flow:
        seen = self.seen
        flow = super().apply(ctx)
        self.seen = seen.add_(1)  # counts in place
        return flow

    def state_dict(self) -> dict:
        return {"seen": self.seen}


class SavesObjects(Sound):
    def state_dict(self) -> dict:
        return {"seen": self.seen.clone(), "params": self.params}


class IgnoresLoad(Sound):
    def load_state_dict(self, state: dict) -> None:
        pass


class KeepsLoadedTensors(SavesLiveState):
    def state_dict(self) -> dict:
        return {"seen": self.seen.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.seen = state["seen"]


class PoolsAcrossWorlds(Sound):
    def apply(self, ctx: RoundContext) -> Flow:
        take = 0.2 * ctx.income.mean(0, keepdim=True).expand_as(ctx.income)  # every world's
        return Flow(-take, take.sum(-1), torch.zeros_like(ctx.pool))


class ForgetsToReplicate(Sound):
    def replicate(self, source: Tensor) -> None:
        pass  # copies of a world keep their own controls and income so far


class ResetRestoresControls(Sound):
    def reset(self) -> None:
        super().reset()
        self.rates = torch.full_like(self.rates, self.params.rate)


class FirstWorldsControlsEverywhere(Sound):
    def share(self) -> Tensor:
        return super().share()[:1].expand(self.batch_size, 1)


class SaysNothing(Sound):
    def describe(self) -> str:
        return ""


class PeriodDisagrees(Sound):
    @property
    def period(self) -> int | None:
        return 3


class WelcomesPlannerWithoutControls(Sound):
    @property
    def num_controls(self) -> int:
        return 0


@pytest.fixture
def register(monkeypatch):
    def put(mech_cls: type) -> None:
        monkeypatch.setitem(MECHANISMS, "broken", mech_cls)

    return put


def test_a_sound_mechanism_passes_every_check(register):
    register(Sound)
    report = check_mechanism("broken")
    for where in ("world 'public_goods'", "world 'public_goods' after a levy"):
        for check in ("budget balance", "state round-trip", "parameters per world", "reset"):
            assert f"mechanism 'broken' in {where}: {check}" in report.passed


@pytest.mark.parametrize(
    ("mech_cls", "check", "detail"),
    [
        (Unbalanced, "budget balance", "from outside: off by 4"),
        (ForgetsToReset, "reset", "reset left something of the episode behind"),
        (StateMissesWhatItLearned, "reset", "or state_dict misses something a mechanism learned"),
        (SavesLiveState, "state round-trip", "state_dict() returned live state"),
        (SavesObjects, "state round-trip", "does not survive torch.save"),
        (IgnoresLoad, "state round-trip", "after load_state_dict(s), state_dict() is not s"),
        (KeepsLoadedTensors, "state round-trip", "load_state_dict() kept the tensors"),
        (PoolsAcrossWorlds, "independence", "other actions in world 0 changed world 1"),
        (ForgetsToReplicate, "replicate steps alike", "steps differently from its source"),
        (ResetRestoresControls, "parameters per world", "then reset() does not leave"),
        (FirstWorldsControlsEverywhere, "parameters per world", "world 1 plays differently"),
        (SaysNothing, "hooks", "describe() returned ''"),
        (PeriodDisagrees, "hooks", "period 3 is not period_of(params) None"),
        (WelcomesPlannerWithoutControls, "hooks", "planner_refusal accepts a planner"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_the_kit_names_the_mechanism_the_property_and_what_differed(
    register, mech_cls, check, detail
):
    register(mech_cls)
    where = "mechanism 'broken' in world 'public_goods'"
    with pytest.raises(AssertionError, match=re.escape(f"{where}: {check}: ")) as err:
        check_mechanism("broken")
    assert detail in str(err.value)


def test_a_coupled_mechanism_is_spared_only_the_independence_checks(register):
    register(PoolsAcrossWorlds)
    report = check_mechanism("broken", worlds=["public_goods"], coupled="pools every world")
    where = "mechanism 'broken' in world 'public_goods'"
    assert report.skipped[f"{where}: independence"] == "pools every world"
    assert f"{where}: budget balance" in report.passed


def test_the_levy_fills_the_pool_from_income():
    levy = Levy(Levy.Params(), num_agents=2, batch_size=1, device=torch.device("cpu"))
    ctx = RoundContext(
        gross=torch.tensor([[4.0, -2.0]]), income=torch.tensor([[4.0, -2.0]]), round=0, rounds=1
    )
    flow = levy.apply(ctx)
    assert torch.equal(flow.transfer, torch.tensor([[-1.0, 0.0]]))
    assert torch.equal(flow.pool, torch.tensor([1.0]))
    assert torch.equal(flow.imbalance(), torch.tensor([0.0]))


def test_params_are_validated_as_a_scenarios_mechanism_table_is():
    with pytest.raises(ValueError, match=r"mechanisms\.lump_sum\.share"):
        check_mechanism("lump_sum", share=2.0)
