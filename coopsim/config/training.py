"""Hyperparameters of training: PPO's, then the budget. One line each on what it does."""

from __future__ import annotations

from dataclasses import dataclass

from coopsim.schema import param

# Seeds are offset per world, stage and seed of a sweep before they reach torch and numpy;
# 32 bits leave room for every offset below torch's 64-bit limit.
SEED_MAX = 2**32 - 1


@dataclass
class PPOConfig:
    """PPO's hyperparameters (CleanRL's names), shared by every learning group and, with its
    own overrides, the planner."""

    learning_rate: float = param(3e-3, help="Adam step size", gt=0, le=1)
    gamma: float = param(0.99, help="Discount factor per step", ge=0, le=1)
    gae_lambda: float = param(0.95, help="GAE lambda: bias/variance trade-off", ge=0, le=1)
    clip_coef: float = param(0.2, help="Surrogate clipping epsilon", gt=0, le=1)
    clip_vloss: bool = param(False, help="Clip the value loss around the old values too")
    # Loss weights up to 100: far above any useful value, and the weighted loss stays finite.
    vf_coef: float = param(0.5, help="Weight of the value loss", ge=0, le=100)
    ent_coef: float = param(0.01, help="Entropy bonus at the start of training", ge=0, le=100)
    ent_coef_final: float = param(
        0.0, help="Entropy bonus at the end (annealed linearly)", ge=0, le=100
    )
    update_epochs: int = param(4, help="Passes over each rollout", ge=1, le=100)
    num_minibatches: int = param(4, help="Minibatches per pass", ge=1, le=4096)
    max_grad_norm: float = param(0.5, help="Global gradient-norm clip", gt=0, le=1e6)
    norm_adv: bool = param(True, help="Normalise advantages within each minibatch")
    hidden: int = param(64, help="Width of the hidden layers", ge=4, le=4096)
    conv_channels: int = param(
        16, help="Channels of the conv layers over the map (worlds with one)", ge=1, le=256
    )
    map_encoder: str = param(
        "conv",
        help="How a map is encoded (worlds with one): two conv layers, or one dense layer",
        choices=("conv", "linear"),
    )
    map_embedding: int = param(
        64, help="Width of the dense map encoder's layer (map_encoder = linear)", ge=1, le=4096
    )
    map_precision: str = param(
        "float32",
        help="Precision of the dense map layer's matrix products (map_encoder = linear): "
        "bfloat16 halves their time on CPUs with AVX512-BF16 (without it, it may be slower); "
        "weights and updates stay float32",
        choices=("float32", "bfloat16"),
    )
    reward_scale: float = param(
        1.0,
        help="Rewards are multiplied by this before learning",
        gt=0,
        # A step's reward reaches ~1e9 at the worlds' largest payoffs; x 1e3 its square in the
        # value loss (1e24) stays inside float32.
        le=1e3,
    )


@dataclass
class TrainingConfig(PPOConfig):
    """A scenario's ``[training]`` table: PPO's hyperparameters and the budget they run for."""

    iterations: int = param(
        100, help="Training iterations (each: rollout, then update)", ge=1, le=10_000_000
    )
    num_worlds: int = param(
        64,
        help="Worlds B stepped in parallel during training",
        ge=1,
        le=1_000_000,  # every world's state and rollout is held in memory at once
    )
    episodes_per_iteration: int = param(1, help="Episodes per world per iteration", ge=1, le=10_000)
    seed: int = param(
        0,
        help="Seed of the networks, the worlds and the sampling",
        ge=0,
        le=SEED_MAX,
    )
    device: str = param("cpu", help="Torch device to train on", choices=("cpu", "cuda", "auto"))
    checkpoint_every: int = param(10, help="Iterations between checkpoints", ge=1, le=10_000_000)
    labour_warmup: int = param(
        0,
        help="Iterations over which the world's labour cost rises from 0 to full (0: no "
        "warm-up); agents that first learn to work keep working once work costs",
        ge=0,
        le=10_000_000,  # iterations' bound
    )
