"""Any coopsim world as a native, batched TorchRL environment (needs the ``torchrl`` extra).

Unlike TorchRL's ``PettingZooWrapper`` over the B=1 PettingZoo adapter, this steps the batched
world directly: ``batch_size=[B]`` worlds move in one tensor step, with no numpy or per-agent
dicts in between, which is where coopsim's speed comes from.

Keys follow TorchRL's multi-agent environments (VMAS): the exposed agents form one group,
``"agents"``, with shape ``[B, M]``:

- ``("agents", "observation")`` [B, M, obs_dim] float, bounded by the world's declared bounds;
- ``("agents", "action_mask")`` [B, M, sum(nvec)] bool, true where a choice can take effect;
- ``("agents", "info", name)`` [B, M]: every variable the world reports for a round (0 on
  steps that end no round, and at reset);
- ``("agents", "action")`` [B, M] long for a one-head world, [B, M, H] for several heads;
- ``("agents", "reward")`` [B, M, 1]; ``("agents", "done" | "terminated")`` [B, M, 1] bool;
- ``"state"`` [B, N * obs_dim]: every seat's observation, for centralised critics (MAPPO);
- ``"done"``, ``"terminated"`` [B, 1] bool. Worlds move in lock-step, so all end together.

As in :mod:`coopsim.adapters.pettingzoo`, only the scenario's learning seats are agents (``M`` of
them) and its scripted seats are played inside the environment; ``seats="all"`` exposes all.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Bounded, Categorical, Composite, MultiCategorical, Unbounded
from torchrl.envs import EnvBase

from coopsim import builder
from coopsim import scenario as sc
from coopsim.adapters.suite import Seats, info_keys
from coopsim.envs.base import World

GROUP = "agents"


def torchrl_env(
    scenario: str | os.PathLike | sc.Scenario,
    num_worlds: int = 1,
    device: str | torch.device = "cpu",
    seats: str = "learning",
    seed: int | None = None,
) -> CoopsimTorchRLEnv:
    """A batched TorchRL environment of a scenario (its name, a TOML path or a Scenario)."""
    if not isinstance(scenario, sc.Scenario):
        scenario = sc.load(scenario)
    return CoopsimTorchRLEnv(scenario, num_worlds, device=device, seats=seats, seed=seed)


class CoopsimTorchRLEnv(EnvBase):
    """B worlds of a scenario behind TorchRL's ``EnvBase``, with one multi-agent group."""

    def __init__(
        self,
        scenario: sc.Scenario,
        num_worlds: int = 1,
        device: str | torch.device = "cpu",
        seats: str = "learning",
        seed: int | None = None,
    ):
        super().__init__(device=device, batch_size=torch.Size([num_worlds]))
        self.scenario = scenario
        self.built = builder.build(scenario, num_worlds, device, population=False)
        self.world: World = self.built.world
        self.seats = Seats(scenario, self.world, seats)
        self.agent_names = self.seats.names
        self._info_keys = info_keys(scenario)
        self._nvec = tuple(self.world.spec.action_nvec)
        self._seeds = np.random.default_rng(seed)
        self._scripted_gen = torch.Generator(device=self.world.device)
        self._obs: torch.Tensor | None = None  # [B, N, obs_dim] every seat's latest
        n = self.world.spec.num_agents
        self._every_seat = self.seats.learning.tolist() == list(range(n))  # no gather needed
        self._make_specs()

    def _make_specs(self) -> None:
        b, m = self.batch_size[0], len(self.agent_names)
        spec, dev = self.world.spec, self.device
        n, o = spec.num_agents, spec.obs_dim
        low, high = (x.to(dev) for x in self.world.observation_bounds())  # [obs_dim] each
        group = (b, m)
        info = Composite(
            {k: Unbounded(shape=group, device=dev) for k in self._info_keys},
            shape=group,
            device=dev,
        )
        self.observation_spec = Composite(
            {
                GROUP: Composite(
                    observation=Bounded(low.expand(b, m, o), high.expand(b, m, o), device=dev),
                    action_mask=Categorical(2, shape=(b, m, sum(self._nvec)), dtype=torch.bool),
                    info=info,
                    shape=group,
                    device=dev,
                ),
                "state": Bounded(low.repeat(n).expand(b, n * o), high.repeat(n).expand(b, n * o)),
            },
            shape=(b,),
            device=dev,
        )
        action = (
            Categorical(self._nvec[0], shape=group, device=dev)
            if len(self._nvec) == 1
            else MultiCategorical(self._nvec, shape=(*group, len(self._nvec)), device=dev)
        )
        self.action_spec = Composite(
            {GROUP: Composite(action=action, shape=group, device=dev)}, shape=(b,), device=dev
        )
        self.reward_spec = Composite(
            {GROUP: Composite(reward=Unbounded(shape=(*group, 1), device=dev), shape=group)},
            shape=(b,),
            device=dev,
        )
        flag = Categorical(2, shape=(*group, 1), dtype=torch.bool, device=dev)
        root = Categorical(2, shape=(b, 1), dtype=torch.bool, device=dev)
        self.done_spec = Composite(
            {
                "done": root,
                "terminated": root.clone(),
                GROUP: Composite(done=flag, terminated=flag.clone(), shape=group, device=dev),
            },
            shape=(b,),
            device=dev,
        )

    # -- EnvBase --------------------------------------------------------------------------
    def _set_seed(self, seed: int | None) -> None:
        self._seeds = np.random.default_rng(seed)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        # Worlds move in lock-step, so a reset (partial or not) starts every world anew.
        world_seed = int(self._seeds.integers(0, 2**63 - 1))
        self._obs = self.world.reset(seed=world_seed)  # [B, N, obs_dim]
        self._scripted_gen.manual_seed(world_seed)
        zeros = {
            k: torch.zeros(*self.batch_size, len(self.agent_names), device=self.device)
            for k in self._info_keys
        }
        done = torch.zeros(*self.batch_size, 1, dtype=torch.bool, device=self.device)
        return self._output(zeros, done, reward=None)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        action = tensordict.get((GROUP, "action"))  # [B, M] or [B, M, H]
        if len(self._nvec) == 1:
            action = action[..., None]
        joint = self.seats.joint(action, self._obs, self._scripted_gen, self.world.action_mask())
        step = self.world.step(joint)  # [B, N, H] in
        self._obs = step.obs
        m = len(self.agent_names)
        info = {
            k: self._learners(step.info[k])
            if k in step.info
            else torch.zeros(*self.batch_size, m, device=self.device)
            for k in self._info_keys
        }  # name -> [B, M]
        return self._output(info, step.done[:, None], reward=self._learners(step.reward))

    def _learners(self, x: torch.Tensor) -> torch.Tensor:
        """The learning seats' rows of a per-seat tensor [B, N, ...] -> [B, M, ...]."""
        return x if self._every_seat else x.index_select(1, self.seats.learning)

    def _output(
        self, info: dict[str, torch.Tensor], done: torch.Tensor, reward: torch.Tensor | None
    ) -> TensorDictBase:
        """The env's output for the current world state; ``done`` [B, 1], ``reward`` [B, M]."""
        b, m = self.batch_size[0], len(self.agent_names)
        mask = self.world.action_mask()  # [B, N, A] or None
        mask = (
            torch.ones(b, m, sum(self._nvec), dtype=torch.bool, device=self.device)
            if mask is None
            else self._learners(mask)
        )
        flags = done[:, None].expand(b, m, 1)  # [B, M, 1]
        group = {
            "observation": self._learners(self._obs),
            "action_mask": mask,
            "info": TensorDict(info, batch_size=(b, m)),
            "done": flags.clone(),
            "terminated": flags.clone(),
        }
        if reward is not None:
            group["reward"] = reward[..., None]
        return TensorDict(
            {
                GROUP: TensorDict(group, batch_size=(b, m)),
                "state": self._obs.reshape(b, -1),
                "done": done.clone(),
                "terminated": done.clone(),
            },
            batch_size=self.batch_size,
            device=self.device,
        )
