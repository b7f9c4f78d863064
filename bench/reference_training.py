"""Fidelity check: coopsim's PPO trained on the AI Economist's own env and on ``economy_paper_*``.

Usage: ``PYTHONPATH=.:<ai-economist checkout> python bench/reference_training.py --env
{reference,coopsim} --regime {free_market,saez} [--iterations 24] [--worlds 8] [--seed 0]
[--out result.json]``, or ``--compare-saez`` for both Saez formulas on the same incomes.

Both sides train the same learner (:class:`coopsim.agents.ppo.PPOLearner` with the
``economy_paper_*`` scenarios' hyperparameters) for the same budget (``iterations`` x
``worlds`` x 1000 steps x 4 agents), with the labour cost warmed up linearly over the first
``warmup`` iterations, and are then measured the same way on ``episodes`` evaluation episodes
with actions sampled from the trained policy: houses built per agent, labour per agent, coin
at the end (productivity), equality (1 - normalised Gini) and their product. So the only
differences left are the envs themselves: their rules, their observations and their action
spaces.

The adapter (:class:`ReferenceBatch`) steps ``worlds`` instances of the reference env
(``ai_economist.foundation``, configured as in the paper's ``tutorials/rllib/phase2/
config.yaml``) one after another and stacks them into coopsim's ``[B, N, ...]`` layout:

* observation: each agent's own flattened reference observation, unchanged and in full:
  ``world-map`` (7 channels) and ``world-idx_map`` (2) of its 11 x 11 egocentric window,
  stacked as a 9-channel map the learner's map encoder reads, then ``time`` and ``flat``
  (inventory, escrow, skills, the order book's histograms, the tax schedule, last period's
  incomes...), as the reference's RLlib policies see them;
* action: one head of the reference's 50 actions (no-op, 4 moves, build, 4 x 11 orders, with
  ``multi_action_mode_agents: false``) masked by the reference's own ``action_mask``;
* reward: the reference's reward (the change of isoelastic utility net of labour), scaled
  by the scenario's ``reward_scale`` as coopsim's trainer does;
* planner: takes its no-op; under ``saez`` the reference's PeriodicBracketTax sets the rates
  (tax_model ``saez``), its Saez buffer pooled over the ``worlds`` envs after every episode
  as RLlib's workers share it; ``free_market`` disables the tax.

Tax annealing (the reference's ``tax_annealing_schedule: [-100, 0.001]``, a rate cap of 10%
rising 0.1% per episode; the scenario's ``anneal_episodes`` here) is off on both sides unless
``--anneal``: at a budget of a few dozen episodes per env it would cap every rate near 10%,
hiding the mechanics this check is about.

The coopsim side trains ``economy_paper_<regime>`` with coopsim's own trainer at the same
``worlds``, ``iterations`` and warm-up.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_economy import PAPER, REFERENCE, reference_stepper  # noqa: E402

from coopsim import scenario as sc  # noqa: E402
from coopsim.agents.ppo import PPOLearner, Rollout, entropy_coef  # noqa: E402
from coopsim.envs.base import WorldSpec  # noqa: E402

LABOUR_COST = 0.21  # the paper's energy_cost
HORIZON = 1000


def gini_equality(coin: np.ndarray) -> float:
    """The reference's equality: 1 - Gini normalised by N / (N - 1)
    (``scenarios/utils/social_metrics.py``), computed the same way for both envs."""
    n = coin.size
    total = coin.sum()
    if total <= 0:
        return 1.0
    diffs = np.abs(coin[:, None] - coin[None, :]).sum()
    gini = diffs / (2 * n * total) * n / (n - 1)
    return float(1 - gini)


def reference_config(regime: str, anneal: bool) -> dict:
    """The paper's phase-2 env with the regime's tax model."""
    tax = {"period": 100, "bracket_spacing": "us-federal", "usd_scaling": 1000}
    if regime == "free_market":
        tax["disable_taxes"] = True
    else:
        tax["tax_model"] = "saez"
        if anneal:
            tax["tax_annealing_schedule"] = [-100, 0.001]
    comps = [
        c if c[0] != "PeriodicBracketTax" else ("PeriodicBracketTax", tax)
        for c in REFERENCE["components"]
    ]
    return REFERENCE | PAPER | {"components": comps}


class ReferenceBatch:
    """``worlds`` reference envs stepped in turn, as one batch in coopsim's layout."""

    def __init__(self, regime: str, worlds: int, seed: int, anneal: bool = False):
        reference_stepper(paper=True)  # installs the stubs and numpy aliases the reference needs
        from ai_economist import foundation

        np.random.seed(seed)  # the reference draws from numpy's global generator
        self.envs = [
            foundation.make_env_instance(**reference_config(regime, anneal)) for _ in range(worlds)
        ]
        self.regime = regime
        first = self.envs[0].reset()["0"]
        self.map_channels = first["world-map"].shape[0] + first["world-idx_map"].shape[0]
        self.map_size = first["world-map"].shape[1:]
        map_dim = self.map_channels * int(np.prod(self.map_size))
        obs_dim = map_dim + np.size(first["time"]) + np.size(first["flat"])
        self.num_actions = np.size(first["action_mask"])
        self.spec = WorldSpec(
            num_agents=4,
            obs_dim=obs_dim,
            action_nvec=(self.num_actions,),
            horizon=HORIZON,
            obs_fields={
                "map": slice(0, map_dim),
                "time": slice(map_dim, map_dim + 1),
                "flat": slice(map_dim + 1, obs_dim),
            },
            head_names=("action",),
            map_shape=(self.map_channels, *self.map_size),
        )
        self.keys = [str(i) for i in range(4)]
        pl = self.envs[0].get_agent("p").action_spaces
        self.planner_noop = [0] * len(np.atleast_1d(pl))

    def set_labour_scale(self, scale: float) -> None:
        for env in self.envs:
            env.energy_cost = LABOUR_COST * scale

    def _stack(self, obs_list: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per env obs dicts -> obs [B, 4, O] float, mask [B, 4, A] bool."""
        rows, masks = [], []
        for obs in obs_list:
            for k in self.keys:
                o = obs[k]
                rows.append(
                    np.concatenate(
                        [
                            o["world-map"].ravel(),
                            o["world-idx_map"].ravel(),
                            np.ravel(o["time"]),
                            o["flat"],
                        ]
                    )
                )
                masks.append(o["action_mask"])
        b = len(obs_list)
        obs_t = torch.as_tensor(np.stack(rows), dtype=torch.float32).view(b, 4, -1)
        mask_t = torch.as_tensor(np.stack(masks) > 0).view(b, 4, -1)
        return obs_t, mask_t

    def reset(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.regime == "saez":  # pool the Saez buffers, as RLlib's workers share them
            pooled = [
                x
                for env in self.envs
                for x in env.get_component("PeriodicBracketTax").get_local_saez_buffer()
            ]
            for env in self.envs:
                tax = env.get_component("PeriodicBracketTax")
                if len(pooled) >= len(tax.get_local_saez_buffer()):
                    tax.set_global_saez_buffer(list(pooled))
        self.last = [env.reset() for env in self.envs]
        return self._stack(self.last)

    def step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """actions [B, 4, 1] -> obs, mask, reward [B, 4], done."""
        acts = actions[..., 0].tolist()
        out, rewards, done = [], [], False
        for env, a in zip(self.envs, acts):
            d = {k: int(x) for k, x in zip(self.keys, a)}
            d["p"] = self.planner_noop
            obs, rew, dn, _ = env.step(d)
            out.append(obs)
            rewards.append([rew[k] for k in self.keys])
            done = dn["__all__"]
        self.last = out
        obs_t, mask_t = self._stack(out)
        return obs_t, mask_t, torch.tensor(rewards, dtype=torch.float32), done

    def episode_metrics(self) -> list[dict]:
        """Per env, at an episode's end: houses and labour per agent, coin, equality."""
        rows = []
        for env in self.envs:
            builds = env.get_component("Build").get_metrics()
            coin = np.array([a.total_endowment("Coin") for a in env.world.agents])
            labour = np.array([a.state["endogenous"]["Labor"] for a in env.world.agents])
            houses = np.array([builds[f"{i}/n_builds"] for i in range(4)], dtype=float)
            rows.append(metric_row(coin, labour, houses))
        return rows

    def tax_rates(self) -> list[float] | None:
        if self.regime != "saez":
            return None
        return [
            float(x) for x in self.envs[0].get_component("PeriodicBracketTax").curr_marginal_rates
        ]


def metric_row(coin: np.ndarray, labour: np.ndarray, houses: np.ndarray) -> dict:
    prod = float(coin.sum())
    eq = gini_equality(coin)
    return {
        "houses_per_agent": float(houses.mean()),
        "labour_per_agent": float(labour.mean()),
        "productivity": prod,
        "equality": eq,
        "eq_x_prod": eq * prod,
    }


def summarise(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def train_reference(args: argparse.Namespace) -> dict:
    """coopsim's PPO on the reference env, then ``episodes`` sampled evaluation episodes."""
    torch.manual_seed(args.seed)
    scenario = sc.load(f"economy_paper_{args.regime}")
    env = ReferenceBatch(args.regime, args.worlds, args.seed, args.anneal)
    ppo_cfg = ppo_config(scenario)
    learner = PPOLearner(env.spec, 4, ppo_cfg, seed=args.seed)
    b, n, o, a = args.worlds, 4, env.spec.obs_dim, env.num_actions
    log = []
    start = time.perf_counter()
    for it in range(args.iterations):
        env.set_labour_scale(min(1.0, it / args.warmup) if args.warmup else 1.0)
        obs_buf = torch.zeros(HORIZON, b, n, o)
        mask_buf = torch.zeros(HORIZON, b, n, a, dtype=torch.bool)
        act_buf = torch.zeros(HORIZON, b, n, 1, dtype=torch.long)
        logp_buf, val_buf, rew_buf = (torch.zeros(HORIZON, b, n) for _ in range(3))
        dones = torch.zeros(HORIZON, b)
        obs, mask = env.reset()
        t0 = time.perf_counter()
        for t in range(HORIZON):
            actions, logp, value = learner.step(obs, mask)
            obs_buf[t], mask_buf[t], act_buf[t], logp_buf[t], val_buf[t] = (
                obs,
                mask,
                actions,
                logp,
                value,
            )
            obs, mask, reward, done = env.step(actions)
            rew_buf[t] = reward * ppo_cfg.reward_scale
        dones[-1] = 1.0
        train_rows = env.episode_metrics()
        t1 = time.perf_counter()
        ro = Rollout(
            obs_buf,
            act_buf,
            logp_buf,
            val_buf,
            rew_buf,
            dones,
            torch.ones(HORIZON, 1, dtype=torch.bool),
            learner.value(obs),
            mask_buf,
        )
        learner.update(ro, entropy_coef(ppo_cfg, it, args.iterations))
        t2 = time.perf_counter()
        row = {"iteration": it, "collect_s": t1 - t0, "update_s": t2 - t1, **summarise(train_rows)}
        row["mean_reward"] = float(rew_buf.mean() / ppo_cfg.reward_scale)
        row["rates"] = env.tax_rates()
        log.append(row)
        print(
            json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}),
            flush=True,
        )
    train_s = time.perf_counter() - start
    rows = []
    for _ in range(max(1, args.episodes // args.worlds)):
        obs, mask = env.reset()
        for _t in range(HORIZON):
            actions, _, _ = learner.step(obs, mask)
            obs, mask, _, _ = env.step(actions)
        rows += env.episode_metrics()
    return {
        "train_s": train_s,
        "log": log,
        "evaluation": summarise(rows),
        "episodes": len(rows),
        "rates": env.tax_rates(),
    }


def ppo_config(scenario):
    """The PPO hyperparameters the scenario's learners train with."""
    from coopsim.builder import build

    built = build(scenario, 1, "cpu", seed=0)
    (policy, _), *_ = built.population.groups
    return policy.config


def train_coopsim(args: argparse.Namespace) -> dict:
    """``economy_paper_<regime>`` with coopsim's own trainer at the same budget, then the same
    measures on ``episodes`` sampled evaluation episodes."""
    from coopsim.train import Trainer, evaluate_trained

    scenario = sc.load(f"economy_paper_{args.regime}")
    training = dataclasses.replace(
        scenario.training,
        iterations=args.iterations,
        num_worlds=args.worlds,
        labour_warmup=args.warmup,
    )
    scenario = dataclasses.replace(scenario, training=training)
    if not args.anneal:  # as the reference runs here: no cap on the tax's rates
        for i, mech in enumerate(scenario.mechanisms):
            if mech.kind == "tax":
                params = dataclasses.replace(mech.params, anneal_episodes=0)
                scenario.mechanisms[i] = dataclasses.replace(mech, params=params)
    trainer = Trainer(scenario, seed=args.seed)
    start = time.perf_counter()
    log = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        row = trainer.train_iteration()
        row = {k: v for k, v in row.items() if isinstance(v, (int, float))}
        row.update(summarise(world_end_metrics(trainer.world)))  # its last training episode
        row["seconds"] = time.perf_counter() - t0
        log.append(row)
        print(json.dumps({k: round(float(v), 4) for k, v in row.items()}), flush=True)
    train_s = time.perf_counter() - start
    ev = evaluate_trained(trainer, episodes=args.episodes)
    df = ev.episodes
    last = df[df["round"] == df["round"].max()]
    rows = []
    for _, ep in last.groupby("episode"):
        coin = ep.sort_values("agent")["coin"].to_numpy()
        labour = ep.sort_values("agent")["labour"].to_numpy()
        built = (
            df[df["episode"] == ep["episode"].iloc[0]].groupby("agent")["built"].sum().to_numpy()
        )
        rows.append(metric_row(coin, labour, built))
    tax = trainer.world.pipeline.find("tax")
    return {
        "train_s": train_s,
        "log": log,
        "evaluation": summarise(rows),
        "episodes": len(rows),
        "rates": [float(x) for x in tax.rates[0]],
    }


def world_end_metrics(world) -> list[dict]:
    """Per world, at the end of the episode it has just played (the world is reset only when
    the next one starts): the measures :meth:`ReferenceBatch.episode_metrics` takes."""
    from coopsim.envs.economy.market import Market

    s = world.state
    coin = (s.coin + Market.escrow_coin(s)).numpy()  # [B, N] escrow included, as the reference
    owners = world.houses().flatten(1)  # [B, H*W] owner or -1
    rows = []
    for b in range(world.batch_size):
        houses = np.bincount(owners[b][owners[b] >= 0].numpy(), minlength=world.spec.num_agents)
        rows.append(metric_row(coin[b], s.labour[b].numpy(), houses.astype(float)))
    return rows


def compare_saez() -> list[tuple[str, float, list[float], list[float]]]:
    """The reference's Saez rates and coopsim's from the same incomes: the same buffer of 500
    period incomes through the reference's binned formula (``PeriodicBracketTax``'s own
    methods) and through :func:`mechanisms.saez.saez_rates`, on the reference's brackets, at
    two elasticities. Returns and prints (case, elasticity, reference rates, coopsim rates)."""
    from mechanisms.saez import saez_rates

    tax = ReferenceBatch("saez", 1, 0).envs[0].get_component("PeriodicBracketTax")
    cutoffs = torch.tensor(tax.bracket_cutoffs, dtype=torch.float32)
    rng = np.random.default_rng(0)
    cases = {
        "four earners 2 / 8 / 20 / 50": np.tile([2.0, 8.0, 20.0, 50.0], 125),
        "one idle, 5 / 15 / 40": np.tile([0.0, 5.0, 15.0, 40.0], 125),
        "10 / 30 / 60 / 120": np.tile([10.0, 30.0, 60.0, 120.0], 125),
        "lognormal, median 10": rng.lognormal(2.3, 1.0, 500),
    }
    out = []
    for name, z in cases.items():
        for elas in (0.5, 0.1):
            gz, az = tax.get_binned_saez_welfare_weight_and_pareto_params(population_incomes=z)
            bins = tax.get_saez_marginal_rates(gz, az, elas)
            ref = tax.bracketize_schedule(
                bin_marginal_rates=bins,
                bin_edges=tax._saez_income_bin_edges,
                bin_sizes=tax._saez_income_bin_sizes,
            )
            ref = np.clip(ref, 0.0, 1.0).tolist()
            ours = saez_rates(torch.tensor(z, dtype=torch.float32), cutoffs, elas).tolist()
            out.append((name, elas, ref, ours))
            print(f"{name:30s} e={elas}  reference {np.round(ref, 2)}  coopsim {np.round(ours, 2)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=("reference", "coopsim"))
    parser.add_argument("--regime", choices=("free_market", "saez"))
    parser.add_argument(
        "--compare-saez", action="store_true", help="only: both Saez formulas on the same incomes"
    )
    parser.add_argument("--iterations", type=int, default=24, help="episodes per world trained")
    parser.add_argument("--worlds", type=int, default=8, help="envs stepped per iteration")
    parser.add_argument("--warmup", type=int, default=8, help="iterations of labour warm-up")
    parser.add_argument("--episodes", type=int, default=8, help="evaluation episodes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--anneal", action="store_true", help="the reference's tax annealing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="where the JSON result goes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.compare_saez:
        compare_saez()
        return
    if args.env is None or args.regime is None:
        parser.error("--env and --regime are needed to train (or --compare-saez)")
    result = (train_reference if args.env == "reference" else train_coopsim)(args)
    result["args"] = {k: str(v) for k, v in vars(args).items()}
    result["agent_steps"] = args.iterations * args.worlds * HORIZON * 4
    text = json.dumps(result, indent=1)
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
    print(json.dumps(result["evaluation"]), flush=True)


if __name__ == "__main__":
    main()
