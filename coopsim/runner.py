"""Run a scenario end to end and publish its run directory.

A scenario that only evaluates is computed in memory and published through
:class:`~coopsim.record.RunWriter` in one step.

A scenario that learns (:attr:`Scenario.learns`) trains first, which can take hours, so it
trains in a staging folder that survives an interruption (:mod:`coopsim.run_store`: checkpoints,
metrics, the lock). When training ends the trained population is evaluated, ``summary.json``
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
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from coopsim.evaluate import Evaluation, evaluate
from coopsim.record import METRICS, RunWriter, new_run_name, run_metadata
from coopsim.replay import REPLAY, save_replay
from coopsim.run_store import (
    LOCK,
    TRAINING,
    Fork,
    ProgressFn,
    Recorder,
    as_trained,
    begin,
    locked,
    partial_dir,
    resume,
    training_setup,
)
from coopsim.scenario import Scenario, resolve_device
from coopsim.schema import ConfigError
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
    if (iterations is not None or fork is not None) and not scenario.learns:
        field, what = ("iterations", "training budget") if fork is None else ("fork", "training")
        raise ConfigError(
            scenario.source,
            field,
            f"scenario {scenario.name!r} does not learn (no ppo group, no planner), "
            f"so it has no {what} to set",
        )
    run_seed = scenario.evaluation.seed if seed is None else seed
    if scenario.learns:
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
    summary = run_metadata(scenario, run_seed, episodes=len(result.episode_metrics))
    summary["metrics"] = result.summary
    with RunWriter(out, new_run_name(scenario.name, run_seed)) as writer:
        _write_evaluation(writer, scenario, result, summary)
    return writer.final


def _write_evaluation(
    writer: RunWriter, scenario: Scenario, result: Evaluation, summary: dict[str, Any]
) -> None:
    # The scenario as it ran: --episodes and --seed overrides are part of what reproduces it.
    resolved = copy.deepcopy(scenario)
    resolved.evaluation.episodes = len(result.episode_metrics)
    if isinstance(summary.get("seed"), int):
        resolved.evaluation.seed = summary["seed"]
    writer.write_text("scenario.toml", resolved.to_toml())
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
    setup = training_setup(scenario, train_seed, str(dev), forked)

    folder = partial_dir(out, scenario.name, seed)
    if fresh and folder.exists():
        with locked(folder):
            shutil.rmtree(folder)
    with locked(folder):
        # a planner with [planner] populations trains against them (coopsim.stress.robust)
        trainer_cls = trainer_for(scenario)
        trainer = trainer_cls(scenario, seed=train_seed, device=str(dev), iterations=cfg.iterations)
        resumed_from, rows = resume(folder, trainer, setup)
        if resumed_from is not None:
            print(
                f"resuming {scenario.name} (seed {seed}) from iteration {resumed_from} of "
                f"{cfg.iterations}: {folder}",
                file=sys.stderr,
            )
        else:
            begin(folder, scenario, setup, cfg.iterations)
            if fork is not None:
                trainer.load_state_dict(fork.state())
                rows = fork.rows()

        record = Recorder(folder, rows, cfg.checkpoint_every, trainer.iterations, progress)
        trainer.train(on_iteration=record, progress=progress_bar)

        # on the training device, where the learners' networks live
        result = evaluate_trained(trainer, seed=seed, episodes=episodes, device=str(trainer.device))
        summary = run_metadata(scenario, seed, episodes=len(result.episode_metrics))
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
        with RunWriter(out, new_run_name(scenario.name, seed), staging=folder) as writer:
            writer.write_frame(METRICS, pd.DataFrame(rows))
            _write_evaluation(writer, scenario, result, summary)
            (folder / TRAINING).unlink()
            (folder / LOCK).unlink()  # still held through the open descriptor until we exit
    return writer.final
