"""Any coopsim world as a PettingZoo ``ParallelEnv``, so outside RL libraries can train on it.

The adapter runs the scenario's batched world at B=1 and converts at the boundary: numpy
actions in, numpy observations and Python floats out. It passes PettingZoo's
``parallel_api_test`` and ``parallel_seed_test``, and, through ``parallel_to_aec``,
``api_test`` and ``seed_test``, with no warnings.

**Seats.** Only the scenario's learning seats are agents (``agent_{seat}``); its scripted seats
(tit-for-tat, free riders) are played by the environment, so ``prisoners_dilemma_learning``
is one learner against tit-for-tat, as the scenario says. ``seats="all"`` exposes every seat.
A planner the scenario may have is not run: mechanisms keep their configured rates.

**Episodes** have the world's fixed horizon; at the last step every agent is *terminated* (the
repeated game is over, it was not cut short) and ``agents`` becomes empty. All randomness comes
from the seed given to :func:`parallel_env` or :meth:`reset`, so two environments seeded alike
produce the same trajectory.

**Observations** are ``Box`` spaces whose finite bounds each world derives from its rules
(:meth:`World.observation_bounds`). :meth:`CoopsimParallelEnv.state` is the global state for
centralised critics: every seat's observation (scripted seats included), concatenated in seat
order, which covers what the mechanisms show (current tax rates, say).

**Infos** carry the same keys at reset and at every step: each variable the world reports for a
round (``contribution``, ``gross``, ``net``, ...; 0 on steps that end no round and at reset),
``round_end``, and ``action_mask``.

**Action masks** follow Gymnasium's convention, so ``space.sample(info["action_mask"])``
works: for a ``Discrete`` space an int8 array of its ``n`` choices, for a ``MultiDiscrete``
space a tuple of int8 arrays, one per head; 1 where the choice can take effect. Worlds without
rules on what can be done give all ones.

**Rendering**: ``"rgb_array"`` returns world 0 as numpy ``[H, W, 3]`` uint8 (the map of a
spatial world, a bar chart of the last round's variables otherwise); ``"human"`` prints the
round's variables, once per :meth:`render` call; ``"ansi"`` returns that text.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from coopsim import builder
from coopsim import scenario as sc
from coopsim.adapters.suite import Seats, info_keys
from coopsim.envs.base import World
from coopsim.envs.render import chart_image

RENDER_MODES = ("human", "ansi", "rgb_array")
ACTION_FORMATS = ("multi_discrete", "discrete")


def parallel_env(
    scenario: str | os.PathLike | sc.Scenario,
    seed: int | None = None,
    render_mode: str | None = None,
    seats: str = "learning",
    actions: str = "multi_discrete",
) -> CoopsimParallelEnv:
    """A PettingZoo ParallelEnv of a scenario (its name, a TOML path or a loaded Scenario).

    ``seats``: ``"learning"`` exposes the scenario's learning seats and plays its scripted ones;
    ``"all"`` exposes every seat. ``actions``: ``"multi_discrete"`` gives a world with several
    heads a ``MultiDiscrete`` space; ``"discrete"`` one ``Discrete`` over every combination of
    heads (row-major, last head fastest), for libraries that take only ``Discrete``.
    """
    if not isinstance(scenario, sc.Scenario):
        scenario = sc.load(scenario)
    return CoopsimParallelEnv(
        scenario, seed=seed, render_mode=render_mode, seats=seats, actions=actions
    )


class CoopsimParallelEnv(ParallelEnv):
    """One world of a scenario (B=1) behind the PettingZoo Parallel API."""

    metadata = {"render_modes": list(RENDER_MODES), "name": "coopsim", "is_parallelizable": True}

    def __init__(
        self,
        scenario: sc.Scenario,
        seed: int | None = None,
        render_mode: str | None = None,
        seats: str = "learning",
        actions: str = "multi_discrete",
    ):
        if actions not in ACTION_FORMATS:
            raise ValueError(f"actions: got {actions!r}, allowed: {', '.join(ACTION_FORMATS)}")
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(
                f"render_mode: got {render_mode!r}, allowed: None, "
                + ", ".join(map(repr, RENDER_MODES))
            )
        self.scenario = scenario
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": f"coopsim_{scenario.name}"}
        # the scripted seats' policies are the Seats' own, so no population is built here
        self.built = builder.build(scenario, batch_size=1, device="cpu", population=False)
        self.world: World = self.built.world
        spec = self.world.spec
        self.seats = Seats(scenario, self.world, seats)
        self.possible_agents = self.seats.names
        self.agents: list[str] = []
        self._index = dict(zip(self.possible_agents, self.seats.learning.tolist()))  # -> seat
        self._nvec = np.asarray(spec.action_nvec, dtype=np.int64)  # [H]
        self._info_keys = info_keys(scenario)
        low, high = (b.numpy() for b in self.world.observation_bounds())  # [obs_dim] each
        self._obs_spaces = {
            a: spaces.Box(low, high, dtype=np.float32) for a in self.possible_agents
        }
        n = spec.num_agents
        self.state_space = spaces.Box(np.tile(low, n), np.tile(high, n), dtype=np.float32)
        # one Discrete choice per agent when asked or when the world has one head
        self._flat = actions == "discrete" or len(self._nvec) == 1
        self._action_spaces: dict[str, spaces.Space] = {
            a: spaces.Discrete(int(np.prod(self._nvec)))
            if self._flat
            else spaces.MultiDiscrete(self._nvec.copy())
            for a in self.possible_agents
        }
        self._all_ones = np.ones(int(self._nvec.sum()), dtype=np.int8)  # [sum(nvec)]
        # Seeds for the world's episodes come from this stream, so reset() without a seed
        # continues a reproducible sequence rather than drawing from the OS.
        self._seeds = np.random.default_rng(seed)
        self._scripted_gen = torch.Generator()  # the scripted seats' randomness
        self._obs: torch.Tensor | None = None  # [1, N, obs_dim] every seat's latest
        self._last_info: dict[str, np.ndarray] = {}  # name -> [N], the last round's variables

    # -- spaces ---------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Box:
        self._check_agent(agent)
        return self._obs_spaces[agent]  # the same object every call, as PettingZoo asks

    def action_space(self, agent: str) -> spaces.Space:
        self._check_agent(agent)
        return self._action_spaces[agent]  # one per agent, so each can be seeded on its own

    def state(self) -> np.ndarray:
        """The global state [N * obs_dim]: every seat's latest observation, in seat order."""
        if self._obs is None:
            raise RuntimeError("call reset() before state()")
        return self._obs[0].reshape(-1).numpy()

    # -- episode --------------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if seed is not None:
            self._seeds = np.random.default_rng(seed)
        world_seed = int(self._seeds.integers(0, 2**63 - 1))
        self._obs = self.world.reset(seed=world_seed)  # [1, N, obs_dim]
        self._scripted_gen.manual_seed(world_seed)
        self.agents = list(self.possible_agents)
        n = self.world.spec.num_agents
        self._last_info = {k: np.zeros(n, dtype=np.float32) for k in self._info_keys}
        infos = self._infos(self.agents, self._last_info, round_end=False, done=False)
        return self._per_agent_obs(self._obs[0].numpy()), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        live = np.empty((len(self.possible_agents), len(self._nvec)), dtype=np.int64)  # [M, H]
        for k, agent in enumerate(self.possible_agents):
            if agent not in actions:
                raise ValueError(f"actions: missing an action for live agent {agent!r}")
            chosen = np.asarray(actions[agent], dtype=np.int64).reshape(-1)
            if self._flat:
                if chosen.size != 1 or not 0 <= chosen[0] < np.prod(self._nvec):
                    raise ValueError(
                        f"actions[{agent!r}]: got {chosen.tolist()}, allowed one integer "
                        f"0..{np.prod(self._nvec) - 1}"
                    )
                chosen = np.array(np.unravel_index(chosen[0], self._nvec))  # [H]
            live[k] = chosen
        bad = (live < 0) | (live >= self._nvec)
        if bad.any():
            k, h = np.argwhere(bad)[0]
            raise ValueError(
                f"actions[{self.possible_agents[k]!r}]: head {h} got {live[k, h]}, "
                f"allowed 0..{self._nvec[h] - 1}"
            )
        joint = self.seats.joint(
            torch.from_numpy(live)[None], self._obs, self._scripted_gen, self.world.action_mask()
        )  # [1, N, H]
        step = self.world.step(joint)
        self._obs = step.obs  # [1, N, obs_dim]
        obs = step.obs[0].numpy()
        reward = step.reward[0].tolist()  # N floats
        done = bool(step.done[0])
        if step.round_end:
            self._last_info = {k: v[0].numpy().copy() for k, v in step.info.items()}  # [N] each
        agents = self.agents
        observations = self._per_agent_obs(obs)
        rewards = {a: reward[self._index[a]] for a in agents}
        terminations = dict.fromkeys(agents, done)
        truncations = dict.fromkeys(agents, False)
        values = step.info if step.round_end else {}
        round_info = {
            k: values[k][0].numpy() if k in values else np.zeros(len(reward), np.float32)
            for k in self._info_keys
        }
        infos = self._infos(agents, round_info, round_end=step.round_end, done=done)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            return None
        if self.render_mode == "rgb_array":
            image = self.world.render_rgb()
            if image is not None:
                return image.cpu().numpy()
            title = f"{self.scenario.name} t={self.world.t}/{self.world.spec.horizon}"
            return chart_image(title, self._last_info)
        text = self._text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass

    # -- helpers --------------------------------------------------------------------------
    def _infos(
        self, agents: list[str], values: dict[str, np.ndarray], round_end: bool, done: bool
    ) -> dict[str, dict]:
        """Per-agent infos: the round's variables, ``round_end``, and the Gymnasium mask."""
        masks = self._masks(done)
        infos = {}
        for a in agents:
            seat = self._index[a]
            entry: dict[str, Any] = {k: float(v[seat]) for k, v in values.items()}
            entry["round_end"] = round_end
            entry["action_mask"] = masks[seat]
            infos[a] = entry
        return infos

    def _masks(self, done: bool) -> list[np.ndarray | tuple[np.ndarray, ...]]:
        """Per seat: an int8 array (one head) or a tuple of them (one per head)."""
        mask = None if done else self.world.action_mask()
        n = self.world.spec.num_agents
        flat = (
            np.broadcast_to(self._all_ones, (n, self._all_ones.size))
            if mask is None
            else mask[0].cpu().numpy().astype(np.int8)
        )  # [N, sum(nvec)]
        if len(self._nvec) == 1:
            return [flat[i].copy() for i in range(n)]
        cuts = np.cumsum(self._nvec)[:-1]
        heads = [np.split(flat[i], cuts) for i in range(n)]
        if not self._flat:
            return [tuple(h.copy() for h in seat) for seat in heads]
        # a combination is allowed when every head's choice is: the outer product of the heads
        return [functools.reduce(np.multiply.outer, seat).reshape(-1) for seat in heads]

    def _per_agent_obs(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {a: obs[self._index[a]] for a in self.agents}

    def _check_agent(self, agent: str) -> None:
        if agent not in self._index:
            raise ValueError(f"agent: got {agent!r}, allowed: {', '.join(self.possible_agents)}")

    def _text(self) -> str:
        head = f"{self.scenario.name} t={self.world.t}/{self.world.spec.horizon}"
        lines = [head]
        for i in range(self.world.spec.num_agents):
            fields = ", ".join(f"{k}={float(v[i]):.2f}" for k, v in self._last_info.items())
            lines.append(f"  agent_{i}: {fields}")
        return "\n".join(lines)
