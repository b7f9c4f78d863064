"""Where a learning run lives while it trains, and how it picks up again after a kill.

Training can take hours, so a learning run is built in a folder that survives an interruption:
a hidden staging folder ``out/.<scenario>-s<seed>.partial/`` (:func:`partial_dir`), keyed by
scenario name and seed so that rerunning the same command finds it. While training it holds

* ``scenario.toml``: the resolved scenario being trained (the training budget included);
* ``training.json``: the training seed, budget and device (and the checkpoint the run was
  forked from, if it was), written once at the start;
* ``training_log.parquet``: one row per finished iteration, rewritten atomically at every
  checkpoint and every few seconds between them (so it can be watched while training);
* ``checkpoints/iteration-000010.pt``: the trainer's ``state_dict()`` after 10 iterations,
  every ``training.checkpoint_every`` iterations and after the last, each written atomically;
* ``.lock``: held (``flock``) by the process training it, so two processes never share it.

A resumed trainer loads the newest checkpoint that the saved metrics reach and drops the rows
written after it (:func:`resume`); since every iteration's episodes are seeded from (seed,
iteration, episode) and a checkpoint holds the networks, optimisers and sampling generators,
it then writes the same rows as an uninterrupted run. A folder trained under other settings is
never resumed silently (:func:`check_resumable` names the first field that differs).

A run may also start from another folder's checkpoint instead of from scratch (:class:`Fork`):
the AI Economist's phase 2 continues agents trained once in a shared phase 1.

Publishing the finished folder as a run directory is :mod:`coopsim.runner`'s job.
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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coopsim.files import atomic_file, read_toml
from coopsim.paths import inside, slug
from coopsim.record import (
    OLD_TRAINING_LOG,
    SCENARIO,
    TRAINING_LOG,
    RunWriter,
    atomic_write_parquet,
    atomic_write_text,
)
from coopsim.schema import ConfigError

if TYPE_CHECKING:
    from coopsim.scenario import Scenario
    from coopsim.train import Trainer

PARTIAL = ".partial"
CHECKPOINTS = "checkpoints"
TRAINING = "training.json"
LOCK = ".lock"
METRICS_EVERY_S = 2.0  # seconds between rewrites of the training log while training ...
METRICS_BACKOFF = 20.0  # ... and at least this many times as long as the last rewrite took
RESUME_HINT = (
    "run it as it was to resume, or pass --fresh (fresh=True) to discard it and start over"
)
_CHECKPOINT_NAME = re.compile(r"^iteration-(\d+)\.pt$")
# Facts of a training folder that are not in its scenario.toml but must match to resume it.
_SETUP_FACTS = ("seed", "device", "fork")

# Called after every training iteration with (iterations done, iterations in all, its metrics).
ProgressFn = Callable[[int, int, dict[str, float]], None]


class RunBusy(RuntimeError):
    """Another process is training the same scenario and seed into the same folder."""


def partial_dir(out: str | os.PathLike, scenario_name: str, seed: int) -> Path:
    """Where an unfinished learning run of ``scenario_name`` at ``seed`` lives in ``out``."""
    return inside(out, f".{slug(scenario_name)}-s{seed}{PARTIAL}")


# -- checkpoints ------------------------------------------------------------------------------
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
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, OSError) as err:
        problem = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            str(path), "(checkpoint)", f"cannot be read ({problem}); --fresh starts over"
        ) from None


def save_checkpoint(trainer: Trainer, folder: str | os.PathLike) -> Path:
    """Write the trainer's state atomically (temp file, then rename): a kill never leaves half."""
    import torch

    path = checkpoint_path(folder, trainer.iteration)
    with atomic_file(path) as fh:
        torch.save(trainer.state_dict(), fh)
    return path


# -- the lock ---------------------------------------------------------------------------------
@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
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


# -- what a folder was trained with -----------------------------------------------------------
def as_trained(
    scenario: Scenario, train_seed: int | None, iterations: int | None = None
) -> Scenario:
    """The scenario as a learning run records it in ``scenario.toml``: a training section even
    where the file had none, the training seed it runs with (``None`` keeps the file's) and the
    budget asked for. The runner writes this and the app compares against it, so the two cannot
    disagree on whether an unfinished folder holds the same design."""
    from coopsim.train import TrainingConfig

    resolved = copy.deepcopy(scenario)
    if resolved.training is None:
        resolved.training = TrainingConfig()
    if iterations is not None:
        resolved.training.iterations = iterations
    if train_seed is not None:
        resolved.training.seed = train_seed
    return resolved


def training_setup(
    plain: dict[str, Any], seed: int, device: str, fork: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What must match for a folder to be resumed: the resolved scenario as plain data
    (:meth:`Scenario.to_dict`, its training budget included: the caller works it out once and
    writes the same data as the run's ``scenario.toml``), the training seed, the device
    (generator states are per device) and the fork."""
    return {**plain, "seed": seed, "device": device, "fork": fork}


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


def first_difference(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, Any, Any] | None:
    """The first dotted field whose value differs between two plain configs, or None."""
    a, b = _flatten(old), _flatten(new)
    for key in list(a) + [k for k in b if k not in a]:
        if a.get(key) != b.get(key):
            return key, a.get(key), b.get(key)
    return None


def check_resumable(folder: Path, expected: dict[str, Any], hint: str = RESUME_HINT) -> None:
    """Refuse to resume a folder trained under other settings, naming the field.

    ``expected`` is :func:`training_setup` of the request; ``hint`` says what to do instead.
    """
    stored = json.loads((folder / TRAINING).read_text())
    was = read_toml(folder / SCENARIO)
    was.update({k: stored.get(k) for k in _SETUP_FACTS})
    diff = first_difference(was, expected)
    if diff is not None:
        field, was, now = diff
        raise ConfigError(
            str(folder),
            field,
            f"this unfinished run was trained with {was!r}, this run asks for {now!r}; {hint}",
        )


# -- metrics rows and the resume point --------------------------------------------------------
def read_rows(folder: Path, upto: int) -> list[dict[str, Any]]:
    """The metrics rows of the first ``upto`` iterations as plain dicts (missing keys dropped)."""
    path = folder / TRAINING_LOG
    if not path.exists():  # a folder an older version began
        path = folder / OLD_TRAINING_LOG
    if upto == 0 or not path.exists():
        return []
    rows = []
    for rec in pd.read_parquet(path).to_dict("records"):
        row = {
            k: (v.item() if isinstance(v, np.generic) else v)
            for k, v in rec.items()
            if not (isinstance(v, float) and math.isnan(v))
        }
        if int(row["iteration"]) < upto:
            rows.append(row)
    return rows


def resume_point(folder: Path) -> tuple[int, Path | None, list[dict[str, Any]]]:
    """Newest checkpoint that the saved metrics reach: (iteration, file, rows before it)."""
    rows = read_rows(folder, upto=sys.maxsize)
    contiguous = 0
    while contiguous < len(rows) and int(rows[contiguous]["iteration"]) == contiguous:
        contiguous += 1
    for it, path in reversed(list_checkpoints(folder).items()):
        if it <= contiguous:
            return it, path, rows[:it]
    return 0, None, []


def resume(
    folder: Path, trainer: Trainer, setup: dict[str, Any], hint: str = RESUME_HINT
) -> tuple[int | None, list[dict[str, Any]]]:
    """Load the folder's newest usable checkpoint into ``trainer``.

    Returns the iteration resumed from and the metrics rows before it, or (None, []) when
    there is nothing to resume (a new folder, or one killed before its first checkpoint).
    """
    if not ((folder / TRAINING).exists() and list_checkpoints(folder)):
        return None, []
    check_resumable(folder, setup, hint)
    it, ckpt, rows = resume_point(folder)
    if ckpt is None:
        return None, []
    trainer.load_state_dict(load_checkpoint(ckpt))
    return it, rows


def begin(folder: Path, setup: dict[str, Any], iterations: int) -> None:
    """Start the folder over: no checkpoints, no training log, the scenario and setup written
    anew. ``setup`` is :func:`training_setup`'s: the scenario as plain data, written as it was
    read, and the facts beside it."""
    import tomli_w

    shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
    (folder / TRAINING_LOG).unlink(missing_ok=True)
    (folder / OLD_TRAINING_LOG).unlink(missing_ok=True)
    scenario = {k: v for k, v in setup.items() if k not in _SETUP_FACTS}  # Scenario.to_dict()
    atomic_write_text(folder / SCENARIO, tomli_w.dumps(scenario))
    info = {"seed": setup["seed"], "iterations": iterations, "device": setup["device"]}
    if setup.get("fork") is not None:
        info["fork"] = setup["fork"]
    info["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_write_text(folder / TRAINING, json.dumps(info, indent=2) + "\n")


# -- recording while training -----------------------------------------------------------------
class Recorder:
    """``Trainer.train``'s ``on_iteration``: keeps the folder's metrics and checkpoints current.

    A checkpoint is taken every ``checkpoint_every`` iterations and after iteration ``last``.
    Rewriting the table costs more as it grows, so between checkpoints it is written every few
    seconds only (and never more than 5% of the time): rows a kill loses are after the
    checkpoint, which a resumed run recomputes anyway.
    """

    def __init__(
        self,
        folder: Path,
        rows: list[dict[str, Any]],
        checkpoint_every: int,
        last: int,
        progress: ProgressFn | None = None,
    ):
        self.folder = folder
        self.rows = rows  # every iteration's row so far, the resumed or forked ones included
        self.checkpoint_every = checkpoint_every
        self.last = last
        self.progress = progress
        self._flushed_at = time.monotonic()
        self._flush_cost = 0.0

    def __call__(self, trainer: Trainer, row: dict[str, float]) -> None:
        self.rows.append(row)
        done = trainer.iteration
        checkpoint = done % self.checkpoint_every == 0 or done == self.last
        wait = max(METRICS_EVERY_S, METRICS_BACKOFF * self._flush_cost)
        if checkpoint or time.monotonic() - self._flushed_at >= wait:
            t0 = time.monotonic()
            atomic_write_parquet(self.folder / TRAINING_LOG, pd.DataFrame(self.rows))
            self._flushed_at = time.monotonic()
            self._flush_cost = self._flushed_at - t0
        if checkpoint:
            save_checkpoint(trainer, self.folder)
        if self.progress is not None:
            self.progress(done, trainer.iterations, row)


# -- a training folder, start to publish ------------------------------------------------------
class Staging:
    """A learning run's staging folder for the length of a ``with`` block: locked, resumed or
    begun, recorded into while training, then published as a run directory.

    One object instead of five calls and hand unlinking::

        with Staging(folder, setup, iterations, fresh=fresh) as stage:
            trainer = Trainer(...)
            stage.start(trainer, fork)                    # resume, or begin (from a fork)
            trainer.train(on_iteration=stage.recorder(checkpoint_every))
            with stage.publish(out, name) as writer:      # the training log is written here
                ...                                       # the evaluation's files
        # published: the bookkeeping files (training.json, .lock) are gone

    ``fresh`` discards the folder first. The lock is held from entry to exit; an exception
    leaves the folder as it is, for the next run to resume.
    """

    def __init__(
        self,
        folder: Path,
        setup: dict[str, Any],
        iterations: int,
        *,
        fresh: bool = False,
        hint: str = RESUME_HINT,
    ):
        self.folder = folder
        self.setup = setup  # training_setup(): the scenario as plain data, seed, device, fork
        self.iterations = iterations
        self.fresh = fresh
        self.hint = hint
        self.resumed_from: int | None = None
        self.rows: list[dict[str, Any]] = []
        self._lock: contextlib.ExitStack | None = None

    def __enter__(self) -> Staging:
        if self.fresh and self.folder.exists():
            with locked(self.folder):
                shutil.rmtree(self.folder)
        stack = contextlib.ExitStack()
        stack.enter_context(locked(self.folder))
        self._lock = stack
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()

    def start(self, trainer: Trainer, fork: Fork | None = None) -> int | None:
        """Resume ``trainer`` from the folder's newest usable checkpoint, or begin the folder
        anew (from ``fork``'s checkpoint where given); returns the iteration resumed from."""
        self.resumed_from, self.rows = resume(self.folder, trainer, self.setup, self.hint)
        if self.resumed_from is None:
            begin(self.folder, self.setup, self.iterations)
            if fork is not None:
                trainer.load_state_dict(fork.state())
                self.rows = fork.rows()
        return self.resumed_from

    def recorder(self, checkpoint_every: int, progress: ProgressFn | None = None) -> Recorder:
        """The trainer's ``on_iteration``: keeps the training log and checkpoints current."""
        return Recorder(self.folder, self.rows, checkpoint_every, self.iterations, progress)

    @contextlib.contextmanager
    def publish(self, out: str | os.PathLike, name: str) -> Iterator[RunWriter]:
        """Publish the folder as ``out/<name>``: the block writes the evaluation's files, the
        training log is written here, and the bookkeeping files go before the rename."""
        with RunWriter(out, name, staging=self.folder) as writer:
            writer.write_frame(TRAINING_LOG, pd.DataFrame(self.rows))
            yield writer
            (self.folder / TRAINING).unlink()
            (self.folder / LOCK).unlink()  # still held through the open descriptor until exit


# -- forks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fork:
    """A run that starts from another training folder's checkpoint instead of from scratch.

    A trainer of the same scenario continues the whole state. A trainer of another scenario
    (``learners_only``) takes only the learners (weights, optimisers, sampling generators) with
    the iteration and agent-steps reached: the planner and the mechanisms' learned state belong
    to the other scenario's pipeline. The folder's metrics rows up to the checkpoint become the
    first rows of the new run, which trained those iterations too.
    """

    folder: Path  # a training folder holding checkpoints/ and its training log
    iteration: int  # the checkpoint's iteration
    learners_only: bool

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.folder, self.iteration)

    def state(self) -> dict[str, Any]:
        """The ``state_dict`` a forked trainer loads."""
        state = load_checkpoint(self.checkpoint)
        if not self.learners_only:
            return state
        keep = ("iteration", "agent_steps", "learners")
        return {**{k: state[k] for k in keep}, "planner": None, "rates": None}

    def rows(self) -> list[dict[str, Any]]:
        return read_rows(self.folder, upto=self.iteration)

    def describe(self, out: str | os.PathLike) -> dict[str, Any]:
        """What the run records of its start: the folder relative to the run's ``out``, so a
        moved output folder still resumes."""
        folder = os.path.relpath(Path(self.folder).resolve(), Path(out).resolve())
        return {"folder": folder, "iteration": self.iteration, "learners_only": self.learners_only}
