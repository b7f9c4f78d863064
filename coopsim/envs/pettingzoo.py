"""Any coopsim world as a PettingZoo ``ParallelEnv``, so outside RL libraries can train on it.

The adapter runs the scenario's batched world at B=1 and converts at the boundary: numpy
actions in, numpy observations and Python floats out. Every seat of the scenario is exposed as
a learning agent (``agent_0`` .. ``agent_{N-1}``); the scenario's scripted population is not
used, because here the caller drives every seat.

Episodes have the world's fixed horizon; at the last step every agent is *terminated* (the
repeated game is over, it was not cut short) and ``agents`` becomes empty, as the Parallel API
asks. All randomness comes from the seed given to :func:`parallel_env` or :meth:`reset`, so two
environments seeded alike produce the same trajectory. A world that masks actions (the economy)
puts each agent's mask in its info as ``action_mask``: a bool array over the concatenated
choices of every head (``sum(nvec)`` long), true where the choice can take effect.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from coopsim import scenario as sc
from coopsim.envs.base import World

# Observation fields whose values are shares, indicators or progress, so lie in [0, 1] in every
# world that declares them; all other fields (payoffs, mechanism parameters) are unbounded.
UNIT_INTERVAL_FIELDS = frozenset(
    {
        "round_progress",
        "stage",
        "first_round",
        "own_last_contribution",
        "others_last_mean_contribution",
        "last_contributions",
        "current_contributions",
    }
)


def parallel_env(
    scenario: str | os.PathLike | sc.Scenario,
    seed: int | None = None,
    render_mode: str | None = None,
) -> CoopsimParallelEnv:
    """A PettingZoo ParallelEnv of a scenario (its name, a TOML path or a loaded Scenario)."""
    if not isinstance(scenario, sc.Scenario):
        scenario = sc.load(scenario)
    return CoopsimParallelEnv(scenario, seed=seed, render_mode=render_mode)


class CoopsimParallelEnv(ParallelEnv):
    """One world of a scenario (B=1) behind the PettingZoo Parallel API."""

    metadata = {"render_modes": ["human", "ansi"], "name": "coopsim", "is_parallelizable": True}

    def __init__(
        self, scenario: sc.Scenario, seed: int | None = None, render_mode: str | None = None
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: got {render_mode!r}, allowed: None, "
                + ", ".join(map(repr, self.metadata["render_modes"]))
            )
        self.scenario = scenario
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": f"coopsim_{scenario.name}"}
        self.world: World = sc.make_world(scenario, batch_size=1, device="cpu")
        spec = self.world.spec
        self.possible_agents = [f"agent_{i}" for i in range(spec.num_agents)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._nvec = np.asarray(spec.action_nvec, dtype=np.int64)  # [H]
        low, high = _obs_bounds(spec.obs_fields, spec.obs_dim)  # [obs_dim] each
        self._obs_spaces = {
            a: spaces.Box(low, high, dtype=np.float32) for a in self.possible_agents
        }
        self._action_spaces: dict[str, spaces.Space] = {
            a: spaces.Discrete(int(self._nvec[0]))
            if len(self._nvec) == 1
            else spaces.MultiDiscrete(self._nvec.copy())
            for a in self.possible_agents
        }
        # Seeds for the world's episodes come from this stream, so reset() without a seed
        # continues a reproducible sequence rather than drawing from the OS.
        self._seeds = np.random.default_rng(seed)
        self._last_obs: np.ndarray | None = None  # [N, obs_dim]
        self._last_info: dict[str, np.ndarray] = {}  # name -> [N]

    # -- spaces ---------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Box:
        self._check_agent(agent)
        return self._obs_spaces[agent]  # the same object every call, as PettingZoo asks

    def action_space(self, agent: str) -> spaces.Space:
        self._check_agent(agent)
        return self._action_spaces[agent]  # one per agent, so each can be seeded on its own

    # -- episode --------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if seed is not None:
            self._seeds = np.random.default_rng(seed)
        world_seed = int(self._seeds.integers(0, 2**63 - 1))
        obs = self.world.reset(seed=world_seed)  # [1, N, obs_dim]
        self.agents = list(self.possible_agents)
        self._last_obs = obs[0].numpy()
        self._last_info = {}
        infos: dict[str, dict] = {a: {} for a in self.agents}
        self._add_masks(infos)
        return self._per_agent_obs(self._last_obs), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        joint = np.empty((len(self.possible_agents), len(self._nvec)), dtype=np.int64)  # [N, H]
        for agent in self.agents:
            if agent not in actions:
                raise ValueError(f"actions: missing an action for live agent {agent!r}")
            joint[self._index[agent]] = np.asarray(actions[agent], dtype=np.int64).reshape(-1)
        bad = (joint < 0) | (joint >= self._nvec)
        if bad.any():
            i, h = np.argwhere(bad)[0]
            raise ValueError(
                f"actions[{self.possible_agents[i]!r}]: head {h} got {joint[i, h]}, "
                f"allowed 0..{self._nvec[h] - 1}"
            )
        step = self.world.step(torch.from_numpy(joint)[None])  # [1, N, H]
        obs = step.obs[0].numpy()  # [N, obs_dim]
        reward = step.reward[0].tolist()  # N floats
        done = bool(step.done[0])
        info = {k: v[0].tolist() for k, v in step.info.items()}  # name -> N floats
        agents = self.agents
        observations = self._per_agent_obs(obs)
        rewards = {a: reward[self._index[a]] for a in agents}
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, False)
        infos = {}
        for a in agents:
            i = self._index[a]
            entry = {k: v[i] for k, v in info.items()}
            entry["round_end"] = step.round_end
            infos[a] = entry
        self._last_obs, self._last_info = obs, info
        if not done:
            self._add_masks(infos)
        if done:
            self.agents = []
        if self.render_mode == "human":
            print(self._text())
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode is None:
            return None
        text = self._text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass

    # -- helpers --------------------------------------------------------------------------
    def _add_masks(self, infos: dict[str, dict]) -> None:
        mask = self.world.action_mask()
        if mask is None:
            return
        mask = mask[0].cpu().numpy()  # [N, sum(nvec)]
        for a in infos:
            infos[a]["action_mask"] = mask[self._index[a]]

    def _per_agent_obs(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {a: obs[self._index[a]] for a in self.agents}

    def _check_agent(self, agent: str) -> None:
        if agent not in self._index:
            raise ValueError(f"agent: got {agent!r}, allowed: {', '.join(self.possible_agents)}")

    def _text(self) -> str:
        head = f"{self.scenario.name} t={self.world.t}/{self.world.spec.horizon}"
        if not self._last_info:
            return head
        lines = [head]
        for i, agent in enumerate(self.possible_agents):
            fields = ", ".join(f"{k}={v[i]:.2f}" for k, v in self._last_info.items())
            lines.append(f"  {agent}: {fields}")
        return "\n".join(lines)


def _obs_bounds(fields: dict[str, slice], obs_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature [obs_dim] low/high: [0, 1] for share-like fields, unbounded otherwise."""
    low = np.full(obs_dim, -np.inf, dtype=np.float32)
    high = np.full(obs_dim, np.inf, dtype=np.float32)
    for name, sl in fields.items():
        if name in UNIT_INTERVAL_FIELDS:
            low[sl], high[sl] = 0.0, 1.0
    return low, high
