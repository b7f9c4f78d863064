"""Proximal Policy Optimisation for populations of agents, on batched tensors.

Reads top to bottom like CleanRL's ``ppo.py``: the hyperparameters
(:class:`~coopsim.config.training.PPOConfig`, a line each), the network, acting, generalised
advantage estimation, and the clipped update; :mod:`coopsim.train` collects the rollout of
B worlds x T steps into preallocated storage (:mod:`coopsim.rollout_buffer`). Everything stays on the
world's device: the rollout is a set of tensors ``[T, B, n, ...]`` and no step leaves it.

One :class:`PPOLearner` drives a *group* of agents with one shared set of weights. A one-hot
seat input lets heterogeneous agents of the group (different skills, different roles) act
differently while still sharing what they learn. Because a learner is a
:class:`~coopsim.agents.policy.Policy`, scripted and learning agents share a world: the
scenario's population says who is who.

Actions are multi-discrete (one categorical per head). Where a world has stages
(:meth:`~coopsim.envs.base.World.active_heads`), heads that do not count at a step add neither
log-probability nor entropy, so a learner is not credited for choices the world ignored. Where a
world masks choices (:meth:`~coopsim.envs.base.World.action_mask`), masked logits are set to
-1e9 when acting and again, from the recorded mask, when updating, so the old and new
log-probabilities of the update are of the same distribution.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from coopsim.agents.policy import Policy
from coopsim.config.training import PPOConfig
from coopsim.envs.base import WorldSpec
from coopsim.schema import ConfigError


# ---------------------------------------------------------------------------------------------
# Network: (map encoder when the world has a map) -> actor and critic MLPs -> heads
# ---------------------------------------------------------------------------------------------
def layer_init(layer: nn.Linear, std: float = 2**0.5, bias: float = 0.0) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class MapEncoder(nn.Module, ABC):
    """Encoder of the flattened (C, H, W) ``map`` field, passing the other fields through.

    The encoder is computed once and shared by actor and critic. The fields before and after
    the map are sliced, not gathered through a mask, and joined with the map's features and any
    ``extra`` columns (the seat one-hot) in one concatenation: on the CPU each copy of a
    [M, O] batch is a noticeable share of a minibatch's forward pass. Subclasses say how the
    window [M, C*H*W] becomes features [M, F].
    """

    def __init__(self, spec: WorldSpec):
        super().__init__()
        c, h, w = spec.map_shape
        self.map_slice = spec.obs_fields["map"]
        self.shape = (c, h, w)
        self.map_width = self.map_slice.stop - self.map_slice.start  # C*H*W
        self.out_dim = self.features_dim() + spec.obs_dim - self.map_width

    @abstractmethod
    def features_dim(self) -> int:
        """F: how many features the map becomes."""

    @abstractmethod
    def encode(self, window: Tensor) -> Tensor:
        """window [M, C*H*W] -> features [M, F]."""

    def forward(self, obs: Tensor, extra: Tensor | None = None) -> Tensor:
        """obs [..., O] (and extra [..., E]) -> features [..., out_dim (+ E)]."""
        lead = obs.shape[:-1]
        z = self.encode(obs[..., self.map_slice].reshape(-1, self.map_width))
        parts = [
            z.reshape(*lead, -1),
            obs[..., : self.map_slice.start],
            obs[..., self.map_slice.stop :],
        ]
        if extra is not None:
            parts.append(extra)
        return torch.cat([p for p in parts if p.shape[-1]], -1)


class ConvMapEncoder(MapEncoder):
    """Two 3x3 conv layers, the first of stride 2.

    An egocentric window of 6 binary channels needs direction and rough distance, not every
    pixel, and halving the grid makes the trunk four times cheaper on a CPU (19 ms against
    75 ms forward and backward for 1,600 11x11 windows, one thread).
    """

    def __init__(self, spec: WorldSpec, channels: int = 16):
        self.channels = channels
        super().__init__(spec)
        c = self.shape[0]
        self.conv = nn.Sequential(
            nn.Conv2d(c, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )

    def features_dim(self) -> int:
        _, h, w = self.shape
        return self.channels * ((h + 1) // 2) * ((w + 1) // 2)

    def encode(self, window: Tensor) -> Tensor:
        return self.conv(window.view(-1, *self.shape))  # [M, C, H, W] -> [M, F]


class LinearMapEncoder(MapEncoder):
    """One dense ReLU layer over the whole window: a learned embedding of the map.

    On a CPU a matrix product is the cheapest kernel there is per multiply-add, and an 11x11
    egocentric window is small enough that weights per tile cost little: 726 x 64 weights
    forward and backward for 1,600 windows take ~8 ms on one thread where the two conv layers
    take ~45 ms. What the conv's weight sharing gave (the same pattern recognised anywhere in
    the window) matters less here, where the position relative to the agent is the point.
    """

    def __init__(self, spec: WorldSpec, width: int = 64, precision: str = "float32"):
        self.width = width
        super().__init__(spec)
        self.embed = nn.Sequential(layer_init(nn.Linear(self.map_width, width)), nn.ReLU())
        # bfloat16 products: the layer is most of the update's multiply-adds, and the window
        # is 0/1 (exact in bfloat16), so only the weights' low bits are lost in the product;
        # the parameters, their gradients' accumulation and Adam stay float32.
        self.low_precision = precision == "bfloat16"

    def features_dim(self) -> int:
        return self.width

    def encode(self, window: Tensor) -> Tensor:
        if not self.low_precision:
            return self.embed(window)
        linear = self.embed[0]
        half = torch.bfloat16
        z = nn.functional.linear(window.to(half), linear.weight.to(half)).float()
        return torch.relu(z + linear.bias)


def map_encoder(spec: WorldSpec, config: PPOConfig) -> MapEncoder | None:
    """The encoder ``config.map_encoder`` names for a world with a map; None without one."""
    if spec.map_shape is None:
        return None
    if config.map_encoder == "linear":
        return LinearMapEncoder(spec, config.map_embedding, config.map_precision)
    if config.map_precision != "float32":
        raise ConfigError(
            None,
            "training.map_precision",
            f"{config.map_precision!r} applies to the dense map layer (map_encoder = "
            f"'linear'), not to {config.map_encoder!r}",
        )
    return ConvMapEncoder(spec, config.conv_channels)


def mlp(inputs: int, hidden: int, layers: int) -> nn.Sequential:
    """``layers`` tanh layers of width ``hidden`` (orthogonal init, as in CleanRL)."""
    mods: list[nn.Module] = []
    for k in range(layers):
        mods += [layer_init(nn.Linear(inputs if k == 0 else hidden, hidden)), nn.Tanh()]
    return nn.Sequential(*mods)


class ActorCritic(nn.Module):
    """Actor and critic MLPs (over a shared map encoder when the world has a map); one
    categorical per action head."""

    def __init__(self, spec: WorldSpec, num_seats: int, config: PPOConfig):
        super().__init__()
        hidden = config.hidden
        self.nvec = tuple(spec.action_nvec)
        self.num_seats = num_seats
        self.trunk = map_encoder(spec, config)
        features = (self.trunk.out_dim if self.trunk else spec.obs_dim) + num_seats
        layers = 1 if self.trunk else 2  # the trunk is the map's first layers
        self.actor_body, self.critic_body = (
            mlp(features, hidden, layers),
            mlp(features, hidden, layers),
        )
        self.actor = layer_init(nn.Linear(hidden, sum(self.nvec)), std=0.01)
        self.critic = layer_init(nn.Linear(hidden, 1), std=1.0)

    def seat_onehot(self, obs: Tensor) -> Tensor:
        """[..., n, num_seats] one-hot of each agent's seat within the group."""
        eye = torch.eye(self.num_seats, device=obs.device, dtype=obs.dtype)
        return eye.expand(*obs.shape[:-2], -1, -1)

    def heads(self, obs: Tensor, seat: Tensor) -> tuple[list[Tensor], Tensor]:
        """obs [..., O] and seat one-hots [..., num_seats] -> logits per head and value."""
        x = torch.cat([obs, seat], -1) if self.trunk is None else self.trunk(obs, seat)
        logits = self.actor(self.actor_body(x)).split(self.nvec, dim=-1)
        return list(logits), self.critic(self.critic_body(x)).squeeze(-1)

    def forward(self, obs: Tensor) -> tuple[list[Tensor], Tensor]:
        """obs [..., n, O] -> per-head logits [..., n, nvec_h] and value [..., n]."""
        return self.heads(obs, self.seat_onehot(obs))


def log_prob_entropy(
    logits: list[Tensor], actions: Tensor, active: Tensor
) -> tuple[Tensor, Tensor]:
    """Summed over active heads: log-prob of ``actions`` [..., H] and entropy, each [...]."""
    logp = torch.zeros(actions.shape[:-1], device=actions.device)
    ent = torch.zeros_like(logp)
    for h, lg in enumerate(logits):
        lsm = torch.log_softmax(lg, -1)
        lp = lsm.gather(-1, actions[..., h : h + 1]).squeeze(-1)
        e = -(lsm.exp() * lsm).sum(-1)
        w = active[..., h].to(lp.dtype)  # [...] broadcast of the head mask
        logp = logp + lp * w
        ent = ent + e * w
    return logp, ent


def log_prob(logits: list[Tensor], actions: Tensor, active: Tensor) -> Tensor:
    """Summed over active heads: log-prob of ``actions`` [..., H] -> [...]; what acting needs
    of :func:`log_prob_entropy` (the same sums), without the entropy it would throw away."""
    logp = torch.zeros(actions.shape[:-1], device=actions.device)
    for h, lg in enumerate(logits):
        lp = torch.log_softmax(lg, -1).gather(-1, actions[..., h : h + 1]).squeeze(-1)
        logp = logp + lp * active[..., h].to(lp.dtype)
    return logp


def sample(logits: list[Tensor], gen: torch.Generator, greedy: bool = False) -> Tensor:
    """One action per head via the Gumbel-max trick with an explicit generator -> [..., H]."""
    out = []
    for lg in logits:
        if greedy:
            out.append(lg.argmax(-1))
            continue
        u = torch.rand(lg.shape, generator=gen, device=lg.device).clamp_(1e-12, 1 - 1e-7)
        out.append((lg - torch.log(-torch.log(u))).argmax(-1))
    return torch.stack(out, -1)


# ---------------------------------------------------------------------------------------------
# The learner: a Policy that can also record, estimate advantages and update
# ---------------------------------------------------------------------------------------------
@dataclass
class Rollout:
    """What one learner saw and did over T steps in B worlds (its n agents)."""

    obs: Tensor  # [T, B, n, O]
    actions: Tensor  # [T, B, n, H] long
    logp: Tensor  # [T, B, n] when acting, over the heads active at each step
    values: Tensor  # [T, B, n]
    rewards: Tensor  # [T, B, n] (already scaled)
    dones: Tensor  # [T, B] float: the episode ended after step t
    active: Tensor  # [T, H] bool: heads that counted at step t
    next_value: Tensor  # [B, n] value of the state after the last step
    mask: Tensor | None = None  # [T, B, n, sum(nvec)] bool: choices allowed when acting


class PPOLearner(Policy):
    """Shared-parameter PPO for a group of ``num_seats`` agents."""

    learns = True

    def __init__(
        self,
        spec: WorldSpec,
        num_seats: int,
        config: PPOConfig,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        name: str = "ppo",
    ):
        self.spec, self.config, self.name = spec, config, name
        self.device = torch.device(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = ActorCritic(spec, num_seats, config)
            self.net.to(self.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate, eps=1e-5)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(seed + 7919)
        self.greedy = False  # evaluation may switch to the most likely action
        self.logit_mask: Tensor | None = None  # [nvec_h] bool, choices allowed in every head

    def forward(self, obs: Tensor, mask: Tensor | None = None) -> tuple[list[Tensor], Tensor]:
        """Network forward with disallowed choices masked out: logits per head, value.

        ``mask`` [..., sum(nvec)] bool comes from the world (choices that can act now);
        ``logit_mask`` is the learner's own (the choices of every head it may use at all).
        """
        logits, value = self.net(obs)
        return self._mask(logits, mask), value

    def _mask(self, logits: list[Tensor], mask: Tensor | None = None) -> list[Tensor]:
        if mask is not None:
            allowed = mask.split(self.spec.action_nvec, dim=-1)
            logits = [lg.masked_fill(~ok, -1e9) for lg, ok in zip(logits, allowed)]
        if self.logit_mask is None:
            return logits
        return [lg.masked_fill(~self.logit_mask, -1e9) for lg in logits]

    # -- acting -------------------------------------------------------------------------
    @torch.no_grad()
    def act(self, obs: Tensor, gen: torch.Generator, mask: Tensor | None = None) -> Tensor:
        """obs [B, n, O] -> actions [B, n, H]; draws from ``gen`` (the world's generator)."""
        logits, _ = self.forward(obs, mask)
        return sample(logits, gen, greedy=self.greedy)

    @torch.no_grad()
    def step(
        self, obs: Tensor, mask: Tensor | None = None, active: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """For training: actions [B, n, H], their log-probs [B, n] over the ``active`` heads
        [H] (all heads when None), values [B, n].

        The log-probs are the update's old ones: computed here, from the logits the actions
        were drawn from, the update need not run the network over the whole rollout again.
        """
        logits, value = self.forward(obs, mask)
        actions = sample(logits, self.gen)
        if active is None:
            active = torch.ones(actions.shape[-1], dtype=torch.bool, device=obs.device)
        return actions, log_prob(logits, actions, active), value

    @torch.no_grad()
    def value(self, obs: Tensor) -> Tensor:
        return self.forward(obs)[1]

    # -- learning -----------------------------------------------------------------------
    def advantages(self, ro: Rollout) -> tuple[Tensor, Tensor]:
        """Generalised advantage estimation (Schulman et al. 2016) -> advantages, returns."""
        c = self.config
        t_len = ro.rewards.shape[0]
        adv = torch.zeros_like(ro.rewards)
        last = torch.zeros_like(ro.next_value)
        for t in reversed(range(t_len)):
            nonterminal = (1.0 - ro.dones[t])[:, None]  # [B, 1]
            next_v = ro.next_value if t == t_len - 1 else ro.values[t + 1]
            delta = ro.rewards[t] + c.gamma * next_v * nonterminal - ro.values[t]
            last = delta + c.gamma * c.gae_lambda * nonterminal * last
            adv[t] = last
        return adv, adv + ro.values

    def update(self, ro: Rollout, ent_coef: float) -> dict[str, float]:
        """Clipped-surrogate PPO update over minibatches; returns mean losses and diagnostics."""
        c = self.config
        adv, returns = self.advantages(ro)
        t_len, b, n = ro.rewards.shape
        active = ro.active[:, None, None, :].expand(t_len, b, n, -1)  # [T, B, n, H]
        flat = {
            "obs": ro.obs.reshape(t_len * b * n, -1),
            "actions": ro.actions.reshape(t_len * b * n, -1),
            "active": active.reshape(t_len * b * n, -1),
            "logp": ro.logp.reshape(-1),  # recorded when acting, over the active heads
            "values": ro.values.reshape(-1),
            "adv": adv.reshape(-1),
            "returns": returns.reshape(-1),
        }
        masks = None if ro.mask is None else ro.mask.reshape(t_len * b * n, -1)
        total = t_len * b * n
        mb = max(1, total // c.num_minibatches)
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0}
        count = 0
        for _ in range(c.update_epochs):
            perm = torch.randperm(total, generator=self.gen, device=self.device)
            for start in range(0, total, mb):
                idx = perm[start : start + mb]
                # index_select, not fancy indexing: the same rows, at half the cost on a CPU
                batch = {k: v.index_select(0, idx) for k, v in flat.items()}
                # Seats are recovered from the flat index (agent axis is the last of T, B, n).
                seat = idx % n
                mask = None if masks is None else masks.index_select(0, idx)
                logits, value = self._forward_seated(batch["obs"], seat, mask)  # obs [M, O]
                newlogp, ent = log_prob_entropy(logits, batch["actions"], batch["active"])
                ratio = torch.exp(newlogp - batch["logp"])
                a = batch["adv"]
                if c.norm_adv and a.numel() > 1:
                    a = (a - a.mean()) / (a.std() + 1e-8)
                pg = torch.max(-a * ratio, -a * ratio.clamp(1 - c.clip_coef, 1 + c.clip_coef))
                pg_loss = pg.mean()
                ret = batch["returns"]
                if c.clip_vloss:
                    old_v = batch["values"]
                    clipped = old_v + (value - old_v).clamp(-c.clip_coef, c.clip_coef)
                    v_loss = 0.5 * torch.max((value - ret) ** 2, (clipped - ret) ** 2).mean()
                else:
                    v_loss = 0.5 * ((value - ret) ** 2).mean()
                ent_loss = ent.mean()
                loss = pg_loss - ent_coef * ent_loss + c.vf_coef * v_loss
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.net.parameters(), c.max_grad_norm)
                self.opt.step()
                with torch.no_grad():
                    stats["policy_loss"] += float(pg_loss)
                    stats["value_loss"] += float(v_loss)
                    stats["entropy"] += float(ent_loss)
                    stats["approx_kl"] += float(((ratio - 1) - ratio.log()).mean())
                count += 1
        return {k: v / count for k, v in stats.items()}

    def _forward_seated(
        self, obs: Tensor, seat: Tensor, mask: Tensor | None = None
    ) -> tuple[list[Tensor], Tensor]:
        """Forward pass for samples [M, O] (masks [M, A]) whose seats [M] are given."""
        onehot = torch.nn.functional.one_hot(seat, self.net.num_seats).to(obs.dtype)
        logits, value = self.net.heads(obs, onehot)
        return self._mask(logits, mask), value

    # -- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
            "gen": self.gen.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.gen.set_state(state["gen"])


def entropy_coef(config: PPOConfig, iteration: int, iterations: int) -> float:
    """Linear schedule from ``ent_coef`` to ``ent_coef_final`` over training."""
    frac = min(1.0, iteration / max(1, iterations - 1))
    return config.ent_coef + frac * (config.ent_coef_final - config.ent_coef)
