"""Peak memory of the app's Compare page on the largest run a valid design could record.

The run: 64 agents x 10,000 rounds x 32 evaluation episodes (20,480,000 rows of
``episodes.parquet``). Running it would take the worker to gigabytes, so this script writes a
run directory of that size directly, episode by episode, from the columns of a small real run.
It then draws the Compare page in a fresh process (Streamlit's AppTest, the page's own code)
and prints that process's peak resident memory.

``--before`` also measures what the page did before it read only what it shows: the whole run
loaded with ``load_run`` and the same figures drawn (about 10 GB: make sure the machine has it).

    python bench/app_memory.py [--before] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AGENTS, ROUNDS, EPISODES = 64, 10_000, 32

AFTER = """
import os, sys
os.environ["COOPSIM_RUNS"] = sys.argv[1]
from streamlit.testing.v1 import AppTest
at = AppTest.from_string(
    "from coopsim.app import state\\n"
    "from coopsim.app.views import compare\\n"
    "state.init()\\n"
    "compare.render()\\n",
    default_timeout=1200,
).run()
assert not at.exception, at.exception
assert len(at.get("image")) >= 4, "the page drew no figures"
"""

BEFORE = """
import sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
from coopsim import figures
from coopsim.record import load_run
run = load_run(next(p for p in Path(sys.argv[1]).iterdir() if not p.name.startswith(".")))
for draw in (figures.equality_vs_productivity, figures.lorenz_curves,
             figures.contributions_per_round):
    draw([run])
figures.wealth_over_time(run)
figures.mechanism_parameters(run)
"""


def make_maximal_run(runs: Path) -> Path:
    """A run directory of the maximal size, its summary and scenario from a real small run."""
    from coopsim import scenario as sc
    from coopsim.runner import run_scenario

    data = sc.load("public_goods_tax").to_dict()
    data["world"].update(num_agents=AGENTS, rounds=ROUNDS)
    data["population"] = [
        {"policy": "conditional_cooperator", "count": AGENTS // 2},
        {"policy": "free_rider", "count": AGENTS // 2},
    ]
    data["world"]["rounds"] = 10  # the template run itself stays small
    small = run_scenario(sc.from_dict(data, source="bench"), out=runs / ".template", episodes=2)
    template = pq.read_table(small / "episodes.parquet")
    path = runs / f"maximal-{AGENTS}x{ROUNDS}x{EPISODES}"
    shutil.copytree(small, path)
    summary = json.loads((path / "summary.json").read_text())
    summary["episodes"] = EPISODES
    (path / "summary.json").write_text(json.dumps(summary))

    rng = np.random.default_rng(0)
    rows = ROUNDS * AGENTS
    agent = np.tile(np.arange(AGENTS), ROUNDS)
    policy = pa.DictionaryArray.from_arrays(
        pa.array((agent >= AGENTS // 2).astype(np.int8)),
        pa.array(["conditional_cooperator", "free_rider"]),
    )
    with pq.ParquetWriter(path / "episodes.parquet", template.schema) as writer:
        for episode in range(EPISODES):
            columns = {
                "episode": np.full(rows, episode, dtype=np.int64),
                "round": np.repeat(np.arange(ROUNDS), AGENTS),
                "agent": agent,
                "policy": policy,
            }
            for name in template.schema.names:
                if name not in columns:
                    columns[name] = rng.random(rows, dtype=np.float32) * 20
            writer.write_table(pa.table(columns, schema=template.schema))
    shutil.rmtree(runs / ".template")
    return path


def peak_mb(code: str, runs: Path) -> float:
    """Peak resident memory of a fresh Python process running ``code`` (megabytes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", textwrap.dedent(code), str(runs)], check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("  (an earlier process peaked higher; run each measure on its own)")
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", action="store_true", help="also measure the whole-run load")
    parser.add_argument("--keep", type=Path, default=None, help="write the run here and keep it")
    args = parser.parse_args()
    runs = args.keep or Path(tempfile.mkdtemp(prefix="coopsim-app-memory-"))
    runs.mkdir(parents=True, exist_ok=True)
    try:
        path = make_maximal_run(runs)
        size = (path / "episodes.parquet").stat().st_size / 2**20
        print(f"run: {AGENTS} agents x {ROUNDS:,} rounds x {EPISODES} episodes")
        print(f"     {AGENTS * ROUNDS * EPISODES:,} rows, episodes.parquet {size:.0f} MB")
        print(f"{'Compare page, now (reads what it shows)':<48} {peak_mb(AFTER, runs):>8.0f} MB")
        if args.before:
            print(
                f"{'whole run loaded, then the figures (before)':<48} {peak_mb(BEFORE, runs):>8.0f} MB"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(runs, ignore_errors=True)


if __name__ == "__main__":
    main()
