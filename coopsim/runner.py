"""Run a scenario end to end and publish its run directory.

A scenario that only evaluates is computed in memory and published through
:class:`~coopsim.record.RunWriter` in one step.

A scenario that learns (:attr:`Scenario.learns`) trains first, which can take hours, so its run
directory is built where it can survive an interruption: a hidden staging folder
``out/.<scenario>-s<seed>.partial/``, keyed by scenario name and seed so that rerunning the same
command finds it. While training it holds

* ``scenario.toml``: the resolved scenario being trained (the training budget included);
* ``training.json``: the training seed, budget and device, written once at the start;
* ``metrics.parquet``: one row per finished iteration, rewritten atomically at every
  checkpoint and every few seconds between them (so it can be watched while training);
* ``checkpoints/iteration-000010.pt``: the trainer's ``state_dict()`` after 10 iterations,
  every ``training.checkpoint_every`` iterations and after the last, each written atomically;
* ``.lock``: held (``flock``) by the process training it, so two processes never share it.

When training ends the trained population is evaluated, ``summary.json`` and the evaluation
tables join the folder, and the folder is renamed to ``out/<scenario>-<time>-s<seed>/``: like every
run directory it appears complete or not at all, and the ``.partial`` folder is gone.

If the process dies instead, the next ``run_scenario`` of the same scenario, seed and ``out``
resumes: it loads the newest checkpoint, drops the metrics rows written after it, and trains on.
Every iteration's episodes are seeded from (seed, iteration, episode) and the checkpoint holds
the networks, optimisers and sampling generators, so the resumed run writes the same rows as an
uninterrupted one. A staging folder whose scenario, budget or device differ from the request is
never resumed silently: that is an error naming the field, and ``fresh=True`` (``--fresh``)
discards the folder and starts over.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from coopsim.evaluate import Evaluation, evaluate
from coopsim.paths import inside, slug
from coopsim.record import (
    METRICS,
    RunWriter,
    atomic_write_parquet,
    atomic_write_text,
    new_run_name,
    run_metadata,
)
from coopsim.scenario import Scenario
from coopsim.schema import ConfigError

if TYPE_CHECKING:
    from coopsim.train import Trainer

PARTIAL = ".partial"
CHECKPOINTS = "checkpoints"
TRAINING = "training.json"
LOCK = ".lock"
METRICS_EVERY_S = 2.0  # seconds between rewrites of metrics.parquet while training ...
METRICS_BACKOFF = 20.0  # ... and at least this many times as long as the last rewrite took
_CHECKPOINT_NAME = re.compile(r"^iteration-(\d+)\.pt$")

# Called after every training iteration with (iterations done, iterations in all, its metrics).
ProgressFn = Callable[[int, int, dict[str, float]], None]


class RunBusy(RuntimeError):
    """Another process is training the same scenario and seed into the same folder."""


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
) -> Path:
    """Train (if the scenario learns), evaluate, and write ``out/<scenario>-<time>-s<seed>/``.

    ``seed`` seeds the evaluation and, for a learning scenario, the training too (without it
    each uses its own section's seed). ``iterations`` overrides ``training.iterations``.
    ``fresh`` discards an unfinished run of this scenario and seed instead of resuming it.
    ``progress`` is called after every training iteration (the app's jobs report through it);
    ``progress_bar`` shows a tqdm bar on stderr, so stdout stays free for the run's path.
    Returns the published run directory.
    """
    if iterations is not None:
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ConfigError(None, "iterations", f"got {iterations!r}, must be an integer >= 1")
        if not scenario.learns:
            raise ConfigError(
                scenario.source,
                "iterations",
                f"scenario {scenario.name!r} does not learn (no ppo group, no planner), "
                "so it has no training budget to set",
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
    writer.write_json("summary.json", summary)


# -- learning runs ----------------------------------------------------------------------------
def partial_dir(out: str | os.PathLike, scenario_name: str, seed: int) -> Path:
    """Where an unfinished learning run of ``scenario_name`` at ``seed`` lives in ``out``."""
    return inside(out, f".{slug(scenario_name)}-s{seed}{PARTIAL}")


def checkpoint_path(folder: str | os.PathLike, iteration: int) -> Path:
    """The checkpoint taken after ``iteration`` training iterations."""
    return Path(folder) / CHECKPOINTS / f"iteration-{iteration:06d}.pt"


def list_checkpoints(folder: str | os.PathLike) -> dict[int, Path]:
    """Iterations done -> checkpoint file, for a run directory or a staging folder."""
    found = {}
    ckpt_dir = Path(folder) / CHECKPOINTS
    if ckpt_dir.is_dir():
        for p in ckpt_dir.iterdir():
            m = _CHECKPOINT_NAME.match(p.name)
            if m:
                found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint's trainer ``state_dict`` (tensors on the CPU; ``load_state_dict`` moves them).

    Kept on the CPU because a generator's state is a CPU byte tensor even for a CUDA generator.
    """
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(trainer: Trainer, folder: str | os.PathLike) -> Path:
    """Write the trainer's state atomically (temp file, then rename): a kill never leaves half."""
    import torch

    path = checkpoint_path(folder, trainer.iteration)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(trainer.state_dict(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` for the block; the OS releases it if the process dies."""
    try:
        import fcntl
    except ModuleNotFoundError:  # pragma: no cover - no flock (Windows): no guard
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunBusy(
                f"{folder}: another process is training this scenario and seed; "
                "wait for it, or use another --out"
            ) from None
        yield
    finally:
        os.close(fd)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, v in enumerate(value):
                out.update(_flatten(v, f"{name}[{i}]."))
        else:
            out[name] = value
    return out


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, Any, Any] | None:
    """The first dotted field whose value differs between two plain configs, or None."""
    a, b = _flatten(old), _flatten(new)
    for key in list(a) + [k for k in b if k not in a]:
        if a.get(key) != b.get(key):
            return key, a.get(key), b.get(key)
    return None


def _check_resumable(folder: Path, expected: dict[str, Any]) -> None:
    """Refuse to resume a staging folder trained under other settings, naming the field."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    stored = json.loads((folder / TRAINING).read_text())
    was = tomllib.loads((folder / "scenario.toml").read_text())
    was.update({k: stored.get(k) for k in ("seed", "device")})
    diff = _first_difference(was, expected)
    if diff is not None:
        field, was, now = diff
        raise ConfigError(
            str(folder),
            field,
            f"this unfinished run was trained with {was!r}, this run asks for {now!r}; "
            "run it as it was to resume, or pass --fresh (fresh=True) to discard it and start over",
        )


def _read_rows(folder: Path, upto: int) -> list[dict[str, Any]]:
    """The metrics rows of the first ``upto`` iterations as plain dicts (missing keys dropped)."""
    path = folder / METRICS
    if upto == 0 or not path.exists():
        return []
    rows = []
    for rec in pd.read_parquet(path).to_dict("records"):
        row = {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in rec.items()
            if not (isinstance(v, float) and math.isnan(v))
        }
        if int(row["iteration"]) < upto:
            rows.append(row)
    return rows


def _resume_point(folder: Path) -> tuple[int, Path | None, list[dict[str, Any]]]:
    """Newest checkpoint that the saved metrics reach: (iteration, file, rows before it)."""
    rows = _read_rows(folder, upto=sys.maxsize)
    contiguous = 0
    while contiguous < len(rows) and int(rows[contiguous]["iteration"]) == contiguous:
        contiguous += 1
    for it, path in reversed(list_checkpoints(folder).items()):
        if it <= contiguous:
            return it, path, rows[:it]
    return 0, None, []


def _evaluate_trained(trainer: Trainer, seed: int, episodes: int | None) -> Evaluation:
    """Evaluate the trained population (and planner, where there is one).

    Prefers :func:`coopsim.train.evaluate_trained`, which installs the planner's learned rates.
    Evaluation runs on the training device, where the learners' networks live.
    """
    from coopsim import train

    dev = str(trainer.device)
    fn = getattr(train, "evaluate_trained", None)
    if fn is not None:
        return fn(trainer, seed=seed, episodes=episodes, device=dev)
    scenario = trainer.scenario
    if trainer.planner is not None:
        scenario = _with_planner_rates(trainer)
    return evaluate(
        scenario, seed=seed, episodes=episodes, device=dev, population=trainer.population
    )


def _with_planner_rates(trainer: Trainer) -> Scenario:
    """A copy of the scenario whose planned tax holds the planner's greedy schedule.

    The planner observes last period's incomes; with none to show it here, it is shown the
    incomes of no one and the rates it last set (world 0), and its most likely schedule is fixed.
    """
    import torch

    planner, tax = trainer.planner, trainer.tax
    rates = tax.rates[:1]  # [1, K]
    incomes = torch.zeros(1, trainer.world.spec.num_agents, device=rates.device)  # [1, N]
    greedy = planner.greedy_rates(incomes, rates)[0].tolist()  # [K]
    scenario = copy.deepcopy(trainer.scenario)
    for mech in scenario.mechanisms:
        if mech.kind == planner.config.mechanism:
            mech.params.schedule = "custom"
            mech.params.rates = [float(r) for r in greedy]
            break
    return scenario


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
) -> Path:
    """Train in ``out/.<scenario>-s<seed>.partial/`` (resuming it if there), evaluate, publish.

    ``seed`` names the run and seeds the evaluation; ``train_seed`` seeds training, and
    without one (no --seed given) training keeps ``training.seed``.
    """
    from coopsim.scenario import resolve_device
    from coopsim.train import Trainer, TrainingConfig

    scenario = copy.deepcopy(scenario)
    if scenario.training is None:
        scenario.training = TrainingConfig()
    if iterations is not None:
        scenario.training.iterations = iterations
    cfg = scenario.training
    train_seed = cfg.seed if train_seed is None else train_seed
    cfg.seed = train_seed  # the run's scenario.toml records the seed it trained with
    dev = resolve_device(device or cfg.device)
    # What must match for a staging folder to be resumed: the resolved scenario (its training
    # budget included), the training seed and the device (generator states are per device).
    setup = {**scenario.to_dict(), "seed": train_seed, "device": str(dev)}

    folder = partial_dir(out, scenario.name, seed)
    if fresh and folder.exists():
        with _locked(folder):
            shutil.rmtree(folder)
    with _locked(folder):
        trainer = Trainer(scenario, seed=train_seed, device=str(dev), iterations=cfg.iterations)
        rows: list[dict[str, Any]] = []
        resumed_from: int | None = None
        if (folder / TRAINING).exists() and list_checkpoints(folder):
            _check_resumable(folder, setup)
            it, ckpt, rows = _resume_point(folder)
            if ckpt is not None:
                trainer.load_state_dict(load_checkpoint(ckpt))
                resumed_from = it
                print(
                    f"resuming {scenario.name} (seed {seed}) from iteration {it} of "
                    f"{cfg.iterations}: {folder}",
                    file=sys.stderr,
                )
        if resumed_from is None:
            # Nothing to resume from (new, or killed before its first checkpoint): start over.
            shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
            (folder / METRICS).unlink(missing_ok=True)
            atomic_write_text(folder / "scenario.toml", scenario.to_toml())
            info = {"seed": train_seed, "iterations": cfg.iterations, "device": str(dev)}
            info["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            atomic_write_text(folder / TRAINING, json.dumps(info, indent=2) + "\n")

        flushed = {"at": time.monotonic(), "cost": 0.0}

        def on_iteration(tr: Trainer, row: dict[str, float]) -> None:
            rows.append(row)
            checkpoint = tr.iteration % cfg.checkpoint_every == 0 or tr.iteration == tr.iterations
            # Rewriting the table costs more as it grows, so between checkpoints it is written
            # every few seconds only (and never more than 5% of the time): rows a kill loses
            # are after the checkpoint, which a resumed run recomputes anyway.
            wait = max(METRICS_EVERY_S, METRICS_BACKOFF * flushed["cost"])
            if checkpoint or time.monotonic() - flushed["at"] >= wait:
                t0 = time.monotonic()
                atomic_write_parquet(folder / METRICS, pd.DataFrame(rows))
                flushed.update(at=time.monotonic(), cost=time.monotonic() - t0)
            if checkpoint:
                save_checkpoint(tr, folder)
            if progress is not None:
                progress(tr.iteration, tr.iterations, row)

        trainer.train(on_iteration=on_iteration, progress=progress_bar)

        result = _evaluate_trained(trainer, seed, episodes)
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
        summary["metrics"] = result.summary
        with RunWriter(out, new_run_name(scenario.name, seed), staging=folder) as writer:
            writer.write_frame(METRICS, pd.DataFrame(rows))
            _write_evaluation(writer, scenario, result, summary)
            (folder / TRAINING).unlink()
            (folder / LOCK).unlink()  # still held through the open descriptor until we exit
    return writer.final
