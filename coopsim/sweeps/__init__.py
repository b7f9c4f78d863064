"""Sweeps: a scenario's fields varied over a grid or random samples, each cell x seed a run.

``coopsim sweep SCENARIO --set FIELD=VALUES ... --seeds K --out DIR`` and
:func:`run_sweep` write every cell x seed as an ordinary run directory under
``DIR/<cell>/`` and the tidy table ``DIR/sweep.parquet``
(:func:`coopsim.record.load_sweep` reads it). Cells run in this process, a local process
pool or as Ray tasks (:mod:`coopsim.sweeps.backends`); a killed sweep started again resumes
(:mod:`coopsim.sweeps.driver`).

Cells made by hand rather than from a grid (:class:`CellTask`: another scenario per cell,
evaluation on shared worlds, a :class:`SharedStart` trained once and forked by several cells)
run the same way through :func:`run_tasks`; the regimes experiment is such a sweep.
"""

from coopsim.sweeps.cells import CellTask, StartFork
from coopsim.sweeps.driver import SweepResult, run_sweep, run_tasks
from coopsim.sweeps.spec import Cell, SweepSpec, parse_seeds, parse_set, spec_from_table
from coopsim.sweeps.starts import SharedStart

__all__ = [
    "Cell",
    "CellTask",
    "SharedStart",
    "StartFork",
    "SweepResult",
    "SweepSpec",
    "parse_seeds",
    "parse_set",
    "run_sweep",
    "run_tasks",
    "spec_from_table",
]
