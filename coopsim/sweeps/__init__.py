"""Sweeps: a scenario's fields varied over a grid or random samples, each cell x seed a run.

``coopsim sweep SCENARIO --set FIELD=VALUES ... --seeds K --out DIR`` and
:func:`run_sweep` write every cell x seed as an ordinary run directory under
``DIR/<cell>/`` and the tidy table ``DIR/sweep.parquet``
(:func:`coopsim.record.load_sweep` reads it). Cells run in this process, a local process
pool or as Ray tasks (:mod:`coopsim.sweeps.backends`); a killed sweep started again resumes
(:mod:`coopsim.sweeps.driver`).
"""

from coopsim.sweeps.driver import SweepResult, run_sweep
from coopsim.sweeps.spec import Cell, SweepSpec, parse_seeds, parse_set, spec_from_table

__all__ = [
    "Cell",
    "SweepResult",
    "SweepSpec",
    "parse_seeds",
    "parse_set",
    "run_sweep",
    "spec_from_table",
]
