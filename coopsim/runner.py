"""Run a scenario end to end and publish its run directory.

A scenario that only evaluates is computed in memory and published through
:class:`~coopsim.record.RunWriter` in one step.

A scenario that learns (:attr:`Scenario.learns`) trains first, which can take hours, so it
trains in a staging folder that survives an interruption (:class:`coopsim.staging.Staging`:
checkpoints, the training log, the lock). When training ends the trained population is evaluated, ``summary.json``
and the evaluation tables join the folder, and the folder is renamed to
``out/<scenario>-<time>-s<seed>/``: like every run directory it appears complete or not at all,
and the ``.partial`` folder is gone.

If the process dies instead, the next ``run_scenario`` of the same scenario, seed and ``out``
resumes from the newest checkpoint and gives the same numbers as an uninterrupted run. A
staging folder whose scenario, budget or device differ from the request is never resumed
silently: that is an error naming the field, and ``fresh=True`` (``--fresh``) discards the
folder and starts over.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

import tomli_w

from coopsim.builder import build, resolve_device
from coopsim.evaluate import Evaluation, evaluate
from coopsim.record import RunWriter, new_run_name, run_metadata
from coopsim.replay import REPLAY, save_replay
from coopsim.scenario import Scenario
from coopsim.schema import ConfigError
from coopsim.staging import Fork, ProgressFn, Staging, as_trained, partial_dir, training_setup
from coopsim.stress.robust import trainer_for
from coopsim.train import evaluate_trained, planner_schedule


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    out: str | os.PathLike = "runs",
    episodes: int | None = None,
    device: str | None = None,
    iterations: int | None = None,
    fresh: bool = False,
    progress: ProgressFn | None = None,
    progress_bar: bool = False,
    fork: Fork | None = None,
) -> Path:
    """Train (if the scenario learns), evaluate, and write ``out/<scenario>-<time>-s<seed>/``.

    ``seed`` seeds the evaluation and, for a learning scenario, the training too (without it
    each uses its own section's seed). ``iterations`` overrides ``training.iterations``.
    ``fresh`` discards an unfinished run of this scenario and seed instead of resuming it.
    ``progress`` is called after every training iteration (the app's jobs report through it);
    ``progress_bar`` shows a tqdm bar on stderr, so stdout stays free for the run's path.
    ``fork`` starts training from another folder's checkpoint instead of from scratch.
    Returns the published run directory.
    """
    bad_count = isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1
    if iterations is not None and bad_count:
        raise ConfigError(None, "iterations", f"got {iterations!r}, must be an integer >= 1")
    learns = scenario.learns
    if (iterations is not None or fork is not None) and not learns:
        field, what = ("iterations", "training budget") if fork is None else ("fork", "training")
        raise ConfigError(
            scenario.source,
            field,
            f"scenario {scenario.name!r} does not learn (no ppo group, no planner), "
            f"so it has no {what} to set",
        )
    run_seed = scenario.evaluation.seed if seed is None else seed
    if learns:
        return _run_learning(
            scenario,
            seed=run_seed,
            train_seed=seed,
            out=out,
            episodes=episodes,
            device=device,
            iterations=iterations,
            fresh=fresh,
            progress=progress,
            progress_bar=progress_bar,
            fork=fork,
        )
    result = evaluate(scenario, seed=run_seed, episodes=episodes, device=device)
    summary = run_metadata(
        scenario, run_seed, result.mechanisms, episodes=len(result.episode_metrics)
    )
    summary["metrics"] = result.summary
    with RunWriter(out, new_run_name(scenario.name, run_seed)) as writer:
        _write_evaluation(writer, scenario.to_dict(), result, summary)
    return writer.final


def _write_evaluation(
    writer: RunWriter, plain: dict[str, Any], result: Evaluation, summary: dict[str, Any]
) -> None:
    """Write an evaluated run's files; ``plain`` is the scenario as plain data
    (:meth:`Scenario.to_dict`, worked out once by the caller), so writing builds nothing."""
    # The scenario as it ran: --episodes and --seed overrides are part of what reproduces it.
    resolved = copy.deepcopy(plain)
    resolved["evaluation"]["episodes"] = len(result.episode_metrics)
    if isinstance(summary.get("seed"), int):
        resolved["evaluation"]["seed"] = summary["seed"]
    writer.write_text("scenario.toml", tomli_w.dumps(resolved))
    writer.write_frame("episodes.parquet", result.episodes)
    writer.write_frame("episode_metrics.parquet", result.episode_metrics)
    if result.replay is not None:
        save_replay(writer.path / REPLAY, result.replay)
    writer.write_json("summary.json", summary)


def _run_learning(
    scenario: Scenario,
    *,
    seed: int,
    train_seed: int | None,
    out: str | os.PathLike,
    episodes: int | None,
    device: str | None,
    iterations: int | None,
    fresh: bool,
    progress: ProgressFn | None,
    progress_bar: bool,
    fork: Fork | None,
) -> Path:
    """Train in ``out/.<scenario>-s<seed>.partial/`` (resuming it if there), evaluate, publish.

    ``seed`` names the run and seeds the evaluation; ``train_seed`` seeds training, and
    without one (no --seed given) training keeps ``training.seed``.
    """
    scenario = as_trained(scenario, train_seed, iterations)
    cfg = scenario.training
    train_seed = cfg.seed  # the run's scenario.toml records the seed it trained with
    dev = resolve_device(device or cfg.device)
    forked = fork.describe(out) if fork is not None else None
    plain = scenario.to_dict()  # worked out once: the staging's setup and scenario.toml
    setup = training_setup(plain, train_seed, str(dev), forked)

    folder = partial_dir(out, scenario.name, seed)
    with Staging(folder, setup, cfg.iterations, fresh=fresh) as stage:
        built = build(scenario, cfg.num_worlds, dev, seed=train_seed)
        # a planner with [planner] populations trains against them (coopsim.stress.robust)
        trainer = trainer_for(scenario)(
            scenario, seed=train_seed, iterations=cfg.iterations, built=built
        )
        resumed_from = stage.start(trainer, fork)
        if resumed_from is not None:
            print(
                f"resuming {scenario.name} (seed {seed}) from iteration {resumed_from} of "
                f"{cfg.iterations}: {folder}",
                file=sys.stderr,
            )
        rows = stage.rows
        trainer.train(
            on_iteration=stage.recorder(cfg.checkpoint_every, progress), progress=progress_bar
        )

        # on the training device, where the learners' networks live
        result = evaluate_trained(trainer, seed=seed, episodes=episodes, device=str(trainer.device))
        summary = run_metadata(
            scenario, seed, result.mechanisms, episodes=len(result.episode_metrics)
        )
        summary["training"] = {
            "seed": train_seed,
            "iterations": trainer.iteration,
            "agent_steps": trainer.agent_steps,
            "seconds": float(sum(r.get("seconds", 0.0) for r in rows)),
            "num_worlds": cfg.num_worlds,
            "device": str(trainer.device),
            "checkpoint_every": cfg.checkpoint_every,
            "resumed_from": resumed_from,
        }
        if forked is not None:
            summary["training"]["forked_from"] = forked
        schedule = planner_schedule(trainer)  # [K], what the evaluation taxed at
        if schedule is not None:
            summary["training"]["planner_schedule"] = [float(r) for r in schedule]
        summary["metrics"] = result.summary
        if result.planner is not None:  # how the planner was played, what it chose
            summary["planner"] = result.planner
        with stage.publish(out, new_run_name(scenario.name, seed)) as writer:
            _write_evaluation(writer, plain, result, summary)
    return writer.final
