"""Run directories: written atomically, read back as pandas DataFrames.

A run directory holds ``scenario.toml`` (the resolved config), ``summary.json`` (metrics with
95% confidence intervals), ``episodes.parquet`` (tidy evaluation rollouts) and, for learning
runs, ``training_log.parquet`` (``metrics.parquet`` in older runs, still read) and
``checkpoints/``. It is built in a hidden sibling folder and
renamed into place in one step, so a reader never sees a half-written run.
"""

from __future__ import annotations

import errno
import glob as globlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import coopsim
from coopsim.files import atomic_file, atomic_write_text
from coopsim.paths import UnsafePathError, inside, slug
from coopsim.schema import ConfigError, read_config_toml

SUMMARY = "summary.json"
EPISODES = "episodes.parquet"
TRAINING_LOG = "training_log.parquet"  # one row per training iteration
#: The training log's name in run folders written before it had its own name; still read.
OLD_TRAINING_LOG = "metrics.parquet"
EPISODE_METRICS = "episode_metrics.parquet"
SCENARIO = "scenario.toml"


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write a table atomically, fsynced like every other file (:func:`coopsim.files.atomic_file`)."""
    with atomic_file(path) as fh:
        frame.to_parquet(fh, index=False)


#: Run folders are made like ``mkdir`` makes folders: this mode less the process's umask.
FOLDER_MODE = 0o777


def _umask() -> int:
    """The process's umask, read without setting it where Linux allows (setting it to look
    would race with threads making files meanwhile)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_run_name(scenario_name: str, seed: int) -> str:
    """``<slug of the scenario name>-<time>-s<seed>``: a name, never a path, whatever it is given."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{slug(scenario_name)}-{stamp}-s{seed}"


class RunWriter:
    """Stage a run directory next to its final place, then publish it with one rename.

    Use as a context manager: on an exception the staging folder is removed and nothing
    appears under the final name.

    ``staging`` adopts a folder that already exists in ``out_dir`` instead of making a fresh
    one: a learning run trains for a long time in its own hidden folder (checkpoints, training log;
    see :mod:`coopsim.runner`) and is published from it with the same single rename. An
    adopted folder is kept on an exception, because what it holds is what a rerun resumes from.
    """

    def __init__(
        self, out_dir: str | os.PathLike, name: str, staging: str | os.PathLike | None = None
    ):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        final = inside(self.out_dir, name)
        suffix = 1
        while final.exists():
            suffix += 1
            final = self.out_dir / f"{name}-{suffix}"
        self.final = final
        self.adopted = staging is not None
        if staging is not None:
            # A rename is atomic only within one file system: the folder must sit in out_dir.
            if Path(staging).resolve().parent != self.out_dir.resolve():
                raise UnsafePathError(
                    f"staging folder {Path(staging).name!r} is not in the runs folder"
                )
            self.staging = Path(staging)
        else:
            self.staging = Path(
                tempfile.mkdtemp(dir=self.out_dir, prefix=f".{final.name}.partial-")
            )
            # mkdtemp makes a private (0700) folder; a run directory gets the same permissions
            # as every other folder made here (0777 less the umask), learning runs included.
            self.staging.chmod(FOLDER_MODE & ~_umask())

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            if not self.adopted:
                shutil.rmtree(self.staging, ignore_errors=True)
            return
        # Another writer (a parallel seed of a sweep, say) may have published under our name
        # since we chose it: rename fails on a non-empty target, so take the next free suffix
        # rather than fail and leave the staging folder behind.
        suffix = 1
        while True:
            try:
                os.rename(self.staging, self.final)
                return
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY) or suffix > 10_000:
                    if not self.adopted:
                        shutil.rmtree(self.staging, ignore_errors=True)
                    raise
            suffix += 1
            self.final = self.out_dir / f"{self.name}-{suffix}"

    @property
    def path(self) -> Path:
        """Where files go while the run is being written."""
        return self.staging

    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.staging / name, text)

    def write_json(self, name: str, data: Any) -> None:
        self.write_text(name, json.dumps(data, indent=2, sort_keys=False) + "\n")

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        atomic_write_parquet(self.staging / name, frame)


def run_metadata(
    scenario, seed: int, mechanisms: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    """Facts about a run that every summary carries.

    ``mechanisms`` holds each mechanism's kind, its one-line ``summary`` and what it does with
    the configured parameters (``describe()``), in pipeline order, as the run built them
    (:attr:`coopsim.builder.Built.mechanisms`): they are written here, by the version that ran,
    so readers such as reports never rebuild a pipeline from an old ``scenario.toml`` to
    recover them, and writing builds nothing. The ``mechanism`` label ('tax+lump_sum', or
    'none') is their kinds joined, the same as :attr:`Scenario.mechanism_label`.
    """
    import torch

    return {
        "scenario": scenario.name,
        "mechanism": "+".join(m["kind"] for m in mechanisms) or "none",
        "seed": seed,
        "world": scenario.world.kind,
        "num_agents": scenario.world.num_agents,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "coopsim_version": coopsim.__version__,
        "torch_version": torch.__version__,
        "mechanisms": mechanisms,
        **extra,
    }


@dataclass
class RunData:
    """One run directory, loaded.

    ``summary`` is ``summary.json`` (metadata and metric -> mean, ci_low, ci_high, std, n);
    ``scenario`` the resolved config as a dict; ``episodes`` the tidy evaluation rollouts (one
    row per episode x round x agent); ``training_log`` one row per training iteration, or None
    for a run that was only evaluated; ``episode_metrics`` one row per evaluation episode, or None
    for runs written before it was recorded. Every table starts with run, scenario,
    mechanism and seed columns.
    """

    path: Path
    summary: dict[str, Any]
    scenario: dict[str, Any]
    episodes: pd.DataFrame
    training_log: pd.DataFrame | None = None
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    episode_metrics: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def metrics(self) -> pd.DataFrame | None:
        """Deprecated name of :attr:`training_log` (read only), kept for older notebooks:
        "metrics" are the measures of an evaluation, the training log is what training wrote."""
        warnings.warn(
            "RunData.metrics is deprecated: use RunData.training_log",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.training_log

    @property
    def label(self) -> str:
        """``scenario (seed s)``: how figures and tables name the run."""
        return f"{self.summary.get('scenario', self.name)} (seed {self.summary.get('seed')})"

    def summary_frame(self) -> pd.DataFrame:
        """The summary's metrics as a tidy table: metric, mean, ci_low, ci_high, std, n."""
        rows = [{"metric": k, **v} for k, v in self.summary.get("metrics", {}).items()]
        frame = pd.DataFrame(rows)
        for key in ("seed", "mechanism", "scenario"):  # inserted at 0: ends scenario first
            frame.insert(0, key, self.summary.get(key))
        frame.insert(0, "run", self.name)
        return frame


def _label(frame: pd.DataFrame, path: Path, summary: dict[str, Any]) -> pd.DataFrame:
    """Add run, scenario, mechanism and seed columns in place (frames come fresh from disk)."""
    frame.insert(0, "seed", summary.get("seed"))
    frame.insert(0, "mechanism", summary.get("mechanism"))
    frame.insert(0, "scenario", summary.get("scenario"))
    frame.insert(0, "run", path.name)
    return frame


def _select_columns(available: list[str], columns: Iterable[str]) -> list[str]:
    """The ``available`` columns that ``columns`` name, in file order; ``name*`` is a prefix."""
    wanted = list(columns)
    exact = {c for c in wanted if not c.endswith("*")}
    prefixes = tuple(c[:-1] for c in wanted if c.endswith("*"))
    return [c for c in available if c in exact or (prefixes and c.startswith(prefixes))]


def _episode_count(meta: pq.FileMetaData, column: int) -> int | None:
    """Episodes in an ``episodes.parquet`` from its row groups' statistics (None if unknown)."""
    top = -1
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None
        top = max(top, int(stats.max))
    return top + 1


def read_episodes(
    path: str | os.PathLike,
    *,
    columns: Iterable[str] | None = None,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """``episodes.parquet`` of a run directory, or the part of it a page shows.

    ``columns`` picks columns by name (``transfer_*`` picks every column with that prefix;
    names the file lacks are skipped). ``max_rows`` keeps the first episodes whose rows fit
    (always at least one): rows are stored episode by episode, so only the row groups of those
    episodes are read. Why: a run may hold millions of rows, and a page drawing means over
    episodes needs neither all of them nor every column.
    """
    path = Path(path)
    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    cols = names if columns is None else _select_columns(names, columns)
    filters = None
    if max_rows is not None and "episode" in names and file.metadata.num_rows > max_rows:
        episodes = _episode_count(file.metadata, names.index("episode"))
        if episodes:
            per_episode = max(file.metadata.num_rows // episodes, 1)
            filters = [("episode", "<", max(max_rows // per_episode, 1))]
    file.close()
    return pd.read_parquet(path, columns=cols, filters=filters)


#: What reading a damaged table raises: pyarrow's own errors, and OSError for a truncated file.
_TABLE_ERRORS = (pa.ArrowException, OSError, ValueError)


def _read_summary(file: Path) -> dict[str, Any]:
    """``summary.json`` as a dict; a damaged one is a ConfigError naming the file."""
    try:
        summary = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(str(file), "(syntax)", f"not valid JSON: {err}") from None
    if not isinstance(summary, dict):
        raise ConfigError(
            str(file), "(top level)", f"got {type(summary).__name__}, expected an object"
        )
    metrics = summary.get("metrics", {})
    if not isinstance(metrics, dict) or not all(
        isinstance(v, dict) and {"mean", "ci_low", "ci_high"} <= v.keys() for v in metrics.values()
    ):
        raise ConfigError(
            str(file), "metrics", "expected an object of metric -> {mean, ci_low, ci_high, ...}"
        )
    return summary


def _read_table(file: Path, reader: Callable[..., pd.DataFrame] = pd.read_parquet, **kwargs):
    """A parquet table; a truncated or corrupt one is a ConfigError naming the file."""
    try:
        return reader(file, **kwargs)
    except _TABLE_ERRORS as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            str(file), "(file)", f"not a readable parquet table: {first_line}"
        ) from None


def load_run(
    path: str | os.PathLike,
    *,
    columns: Iterable[str] | None = None,
    max_rows: int | None = None,
) -> RunData:
    """Read a run directory; every table gains run, scenario, mechanism and seed columns.

    ``columns`` and ``max_rows`` limit what is read of ``episodes.parquet`` (see
    :func:`read_episodes`); the other tables are one row per episode or iteration and are
    read whole.

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.runner import run_scenario
    >>> run = load_run(run_scenario(scenario.load("public_goods"), out=tempfile.mkdtemp(),
    ...                             episodes=2))
    >>> list(run.episodes.columns[:7])
    ['run', 'scenario', 'mechanism', 'seed', 'episode', 'round', 'agent']
    >>> run.summary["scenario"], len(run.episode_metrics), run.training_log is None
    ('public_goods', 2, True)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if not (path / SUMMARY).exists():
        raise FileNotFoundError(f"{path}: not a coopsim run directory (no {SUMMARY})")
    summary = _read_summary(path / SUMMARY)
    scenario = read_config_toml(path / SCENARIO) if (path / SCENARIO).exists() else {}
    episodes = (
        _read_table(path / EPISODES, read_episodes, columns=columns, max_rows=max_rows)
        if (path / EPISODES).exists()
        else pd.DataFrame()
    )
    log = next((path / n for n in (TRAINING_LOG, OLD_TRAINING_LOG) if (path / n).exists()), None)
    training_log = _read_table(log) if log is not None else None
    per_episode = _read_table(path / EPISODE_METRICS) if (path / EPISODE_METRICS).exists() else None
    return RunData(
        path=path,
        summary=summary,
        scenario=scenario,
        episodes=_label(episodes, path, summary),
        training_log=_label(training_log, path, summary) if training_log is not None else None,
        episode_metrics=_label(per_episode, path, summary) if per_episode is not None else None,
    )


def print_note(note: str) -> None:
    """The default for a skipped path: one line on stderr, where it does not mix with tables."""
    print(note, file=sys.stderr)


def expand_paths(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    note: Callable[[str], None] = print_note,
    *,
    sweeps: bool = False,
) -> list[Path]:
    """A glob, a path, or a list of either -> run directories (and, with ``sweeps``, sweep
    folders), in the order given.

    What is not a run directory is skipped: silently where a glob pattern matched it, with a
    one-line ``note`` where it was named (a shell expands ``runs/*`` before we see it, and
    the app keeps its designs and reports in ``runs/`` too). A named path that does not exist
    is an error: it is a typo, not a folder to pass over.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]

    def wanted(path: Path) -> bool:
        return is_run_dir(path) or (sweeps and (path / SWEEP_TABLE).is_file())

    found: list[Path] = []
    for p in paths:
        if any(ch in str(p) for ch in "*?["):
            found.extend(Path(m) for m in sorted(globlib.glob(str(p))) if wanted(Path(m)))
            continue
        path = Path(p)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        if wanted(path):
            found.append(path)
        elif path.is_dir() and any(is_run_dir(c) for c in path.iterdir() if c.is_dir()):
            note(
                f"{path}: skipped, a folder of run directories, not one (no {SUMMARY}); "
                f"give its runs: {path / '*'}"
            )
        else:
            note(f"{path}: skipped, not a coopsim run directory (no {SUMMARY})")
    return found


def is_run_dir(path: Path) -> bool:
    return (path / SUMMARY).is_file()


def load_runs(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    note: Callable[[str], None] = print_note,
) -> list[RunData]:
    """Load several runs from paths or glob patterns, skipping what is not a run (see
    :func:`expand_paths`, which passes ``note`` a line for each named path it skips).

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.runner import run_scenario
    >>> out = tempfile.mkdtemp()
    >>> for name in ("public_goods", "public_goods_matching"):
    ...     _ = run_scenario(scenario.load(name), out=out, episodes=2)
    >>> [r.summary["scenario"] for r in load_runs(f"{out}/*")]
    ['public_goods', 'public_goods_matching']
    """
    return [load_run(p) for p in expand_paths(paths, note)]


def episodes_frame(runs: Iterable[RunData]) -> pd.DataFrame:
    """The evaluation rollouts of several runs in one tidy table (run, scenario, ... columns).

    >>> import tempfile
    >>> from coopsim import scenario
    >>> from coopsim.runner import run_scenario
    >>> out = tempfile.mkdtemp()
    >>> for name in ("public_goods", "public_goods_tax"):
    ...     _ = run_scenario(scenario.load(name), out=out, episodes=2)
    >>> episodes_frame(load_runs(f"{out}/*")).groupby("scenario")["episode"].nunique()
    scenario
    public_goods        2
    public_goods_tax    2
    Name: episode, dtype: int64
    """
    frames = [r.episodes for r in runs if not r.episodes.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def training_log_frame(runs: Iterable[RunData]) -> pd.DataFrame:
    """The training logs of several runs in one table; runs without one add nothing."""
    frames = [r.training_log for r in runs if r.training_log is not None]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metrics_frame(runs: Iterable[RunData]) -> pd.DataFrame:
    """Deprecated name of :func:`training_log_frame`, kept for older notebooks."""
    warnings.warn(
        "metrics_frame is deprecated: use training_log_frame", DeprecationWarning, stacklevel=2
    )
    return training_log_frame(runs)


def summary_frame(runs: Iterable[RunData]) -> pd.DataFrame:
    """Every run's summary.json metrics in one tidy table: run, scenario, ..., metric, mean, ..."""
    frames = [r.summary_frame() for r in runs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


SWEEP_TABLE = "sweep.parquet"


def load_sweep(path: str | os.PathLike) -> pd.DataFrame:
    """A sweep folder's table: one row per cell x seed (see :mod:`coopsim.sweeps.table`).

    ``df.attrs["fields"]`` lists the swept fields (the leading columns) and
    ``df.attrs["path"]`` the folder, so figures and reports need nothing else.
    """
    path = Path(path)
    table = path / SWEEP_TABLE
    if not table.exists():
        raise FileNotFoundError(f"{path}: not a coopsim sweep folder (no {SWEEP_TABLE})")
    frame = pd.read_parquet(table)
    seed_at = list(frame.columns).index("seed") if "seed" in frame.columns else 0
    frame.attrs["fields"] = list(frame.columns[:seed_at])
    frame.attrs["path"] = str(path)
    return frame
