"""Where a sweep's cells run: this process, a local process pool, or Ray tasks.

Every backend takes the same units of work (lists of :class:`~coopsim.sweeps.cells.CellTask`:
one cell x seed, or cells evaluated as one batch, :mod:`coopsim.sweeps.batched`; or lists of
:class:`~coopsim.sweeps.starts.StartTask`, with ``work=run_starts``) and calls ``on_row`` with
each finished row as it arrives, in whatever order units finish; the driver orders the table. A worker dying (killed, out of memory) fails only the rows it had not
returned; running the sweep again picks up what is left.

Workers run one torch thread each: the networks of a cell are too small for several threads
to help it, while separate cells scale with the cores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coopsim.schema import ConfigError
from coopsim.sweeps.batched import run_unit
from coopsim.sweeps.cells import failed_row

BACKENDS = ("local", "ray")
RAY_HINT = "--backend ray needs Ray: pip install 'coopsim[ray]' (or pip install ray)"

OnRow = Callable[[dict[str, Any]], None]
Unit = list[Any]  # CellTasks (or StartTasks), run by one worker
Work = Callable[[Unit], list[dict[str, Any]]]  # a unit -> its rows; a module-level function
Failed = Callable[[Any, str], dict[str, Any]]  # (task, why) -> the row of a task that died


def run_inline(units: list[Unit], on_row: OnRow, work: Work = run_unit) -> None:
    """One unit after another in this process (``--workers 1``)."""
    for unit in units:
        for row in work(unit):
            on_row(row)


def _die_with_parent() -> None:
    """Linux: this worker is killed when the driver dies, so a killed sweep leaves no orphan
    training a cell (and holding its lock) while the same command is started again."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the lock wait covers it
        pass


def _init_worker() -> None:
    import torch

    _die_with_parent()
    torch.set_num_threads(1)


def run_pool(
    units: list[Unit],
    workers: int,
    on_row: OnRow,
    work: Work = run_unit,
    failed: Failed = failed_row,
) -> None:
    """``workers`` spawned processes, one torch thread each."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        jobs = {pool.submit(work, unit): unit for unit in units}
        for job in as_completed(jobs):
            try:
                rows = job.result()
            except BrokenProcessPool:
                died = "a worker process died; run the sweep again"
                rows = [failed(task, died) for task in jobs[job]]
            for row in rows:
                on_row(row)


def _ray_unit(work: Work, unit: Unit) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    return work(unit)


def run_ray(
    units: list[Unit], on_row: OnRow, work: Work = run_unit, failed: Failed = failed_row
) -> None:
    """Each cell a Ray task (one CPU) on the cluster ``ray.init()`` finds (``RAY_ADDRESS``, a
    cluster started with ``ray start`` on this machine), or on a local instance it starts."""
    try:
        import ray
    except ModuleNotFoundError:
        raise ConfigError(None, "--backend", RAY_HINT) from None
    if not ray.is_initialized():
        ray.init(
            logging_level="ERROR",
            log_to_driver=False,
            include_dashboard=False,
            configure_logging=False,
        )
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_unit)
    pending = {remote.remote(work, unit): unit for unit in units}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            unit = pending.pop(ref)
            try:
                rows = ray.get(ref)
            except ray.exceptions.RayError as err:
                rows = [failed(t, f"the Ray task failed: {type(err).__name__}") for t in unit]
            for row in rows:
                on_row(row)


def run_units(
    units: list[Unit],
    backend: str,
    workers: int,
    on_row: OnRow,
    work: Work = run_unit,
    failed: Failed = failed_row,
) -> None:
    """Run ``work`` on every unit with the backend; ``failed`` makes the rows of a unit whose
    worker died."""
    check_backend(backend)
    if backend == "ray":
        run_ray(units, on_row, work, failed)
    elif workers <= 1 or len(units) <= 1:
        run_inline(units, on_row, work)
    else:
        run_pool(units, min(workers, len(units)), on_row, work, failed)


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(None, "--backend", f"got {backend!r}, allowed: {', '.join(BACKENDS)}")
