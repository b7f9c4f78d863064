"""The economy's regimes cross-stressed: the table and comparisons of ``docs/results.md``.

``python scripts/economy_stress_table.py runs/economy_regimes_stress`` reads the per-episode
cells of a ``coopsim stress`` folder over the four regimes' runs (several training seeds each)
and prints, as markdown, the rule x agents table of equality x productivity with 95% t
intervals, then the planner-against-Saez comparisons and the exploiters' measures.

Why not ``stress.parquet``: it pools a cross-rule column over every (rule seed, agents' seed)
pairing, nine units for three seeds that are not independent of each other. Here each
column's interval is over the training seeds that vary in it: the agents' seeds where the
agents were trained under another rule (each the mean over the rule's seeds), the rule's own
seeds elsewhere. Where the seeds do not differ (a fixed rule among scripted seats, or one
training seed, as the exploiters), the interval is over that seed's episodes, marked ``*``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coopsim.intervals import t_interval  # noqa: E402
from coopsim.stress.driver import CELLS, IN_DISTRIBUTION  # noqa: E402

#: The regimes in the table's order, with their labels.
REGIMES = {
    "economy_free_market": "free market",
    "economy_us_federal": "US federal",
    "economy_saez": "Saez",
    "economy_ai_planner": "AI planner",
}
PLANNER, SAEZ = "economy_ai_planner", "economy_saez"
SCRIPTED = "economy_gather_build"


def fmt(value: float) -> str:
    """Three significant figures, whole numbers from 100 up (as the other tables)."""
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    text = f"{value:#.3g}".rstrip(".")
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def cell(values: np.ndarray, episodes: np.ndarray | None = None) -> str:
    """``mean [lo, hi]`` over ``values`` (one per training seed); over ``episodes``, marked
    ``*``, where there is one seed or the seeds agree exactly."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return ""
    if values.size > 1 and np.ptp(values) > 0:
        est = t_interval(values)
        return f"{fmt(est.mean)} [{fmt(est.ci_low)}, {fmt(est.ci_high)}]"
    assert episodes is not None, "one unit: give its episodes"
    est = t_interval(episodes)
    return f"{fmt(est.mean)} [{fmt(est.ci_low)}, {fmt(est.ci_high)}]*"


def load_cells(folder: Path) -> pd.DataFrame:
    """Every per-episode row of the stress folder's cells."""
    paths = sorted((folder / CELLS).glob("*.parquet"))
    if not paths:
        raise SystemExit(f"no cells under {folder / CELLS}: run coopsim stress first")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def by_seed(frame: pd.DataFrame, key: str) -> np.ndarray:
    """[seeds] the mean of ``value`` per ``key`` (``seed``: the rule's; ``partner``: the
    agents')."""
    return frame.groupby(key)["value"].mean().to_numpy()


def first_seed_episodes(frame: pd.DataFrame) -> np.ndarray:
    first = frame[frame["seed"] == frame["seed"].min()]
    return first.groupby("episode")["value"].mean().to_numpy()


def table(obj: pd.DataFrame) -> str:
    """The rule x agents markdown table of the objective."""
    head = ["rule \\ agents", "own (in-distribution)", "own rule, other seeds"]
    head += [f"{label}'s" for label in REGIMES.values()]
    head += [f"`{SCRIPTED}`", "exploiter (1 seat, seed 0)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rule, label in REGIMES.items():
        mine = obj[obj["rule"] == rule]
        row = [label]
        for population, key in ((IN_DISTRIBUTION, "seed"), ("cross-seed", "seed")):
            part = mine[mine["population"] == population]
            row.append(cell(by_seed(part, key), first_seed_episodes(part)))
        for other in REGIMES:
            part = mine[mine["population"] == f"trained under {other}"]
            row.append("" if other == rule else cell(by_seed(part, "partner")))
        part = mine[mine["population"] == SCRIPTED]
        row.append(cell(by_seed(part, "seed"), first_seed_episodes(part)))
        part = mine[mine["kind"] == "exploiter"]
        row.append(cell(by_seed(part, "seed"), first_seed_episodes(part)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def paired(a: pd.Series, b: pd.Series, what: str) -> str:
    """``a - b`` per agents' seed (aligned on the index), with its t interval over the seeds,
    as a share of ``b``'s mean, and seed by seed."""
    diff = (a - b).dropna()
    est = t_interval(diff.to_numpy())
    share = est.mean / b.loc[diff.index].mean()
    seeds = ", ".join(f"s{s}: {d / b.loc[s]:+.1%}" for s, d in diff.items())
    return (
        f"{what}: {est.mean:+.1f} [{est.ci_low:+.1f}, {est.ci_high:+.1f}] over {est.n} seeds "
        f"({share:+.1%} of the reference's mean; per seed {seeds}); "
        f"means {a.loc[diff.index].mean():.1f} against {b.loc[diff.index].mean():.1f}"
    )


def comparisons(obj: pd.DataFrame) -> list[str]:
    """The planner's schedule against each fixed rule with that rule's own agents."""
    own = obj[obj["population"] == IN_DISTRIBUTION].groupby(["rule", "seed"])["value"].mean()
    out = [paired(own.loc[PLANNER], own.loc[SAEZ], "in-distribution, planner s - Saez s")]
    for ref in ("economy_saez", "economy_us_federal", "economy_free_market"):
        under = obj[(obj["rule"] == PLANNER) & (obj["population"] == f"trained under {ref}")]
        # the planners' schedules (mean over the planner's seeds) with each seed's agents of ref
        planner = under.groupby("partner")["value"].mean()
        planner.index = [int(p.rsplit(" s", 1)[1]) for p in planner.index]
        out.append(
            paired(
                planner,
                own.loc[ref],
                f"planner (mean over its seeds) with {REGIMES[ref]}'s agents of seed s, "
                f"minus {REGIMES[ref]} with its own agents of seed s",
            )
        )
    return out


def exploiters(cells: pd.DataFrame) -> list[str]:
    """Each rule's exploiter: its gain, the objective's change, its income timing."""
    lines = []
    measures = [
        "exploiter_gain",
        "objective_change",
        "exploiter_late_income_share",
        "replaced_late_income_share",
        "exploiter_income_cv",
        "replaced_income_cv",
    ]
    hit = cells[cells["kind"] == "exploiter"]
    for rule, label in REGIMES.items():
        parts = []
        for m in measures:
            values = hit[(hit["rule"] == rule) & (hit["measure"] == m)]["value"].dropna()
            if values.empty:
                continue
            est = t_interval(values.to_numpy())
            parts.append(f"{m} {est.mean:.3g} [{est.ci_low:.3g}, {est.ci_high:.3g}] (n={est.n})")
        lines.append(f"{label}: " + "; ".join(parts))
    return lines


def context(cells: pd.DataFrame) -> list[str]:
    """Other economy measures per rule in-distribution, to read the objective by."""
    own = cells[cells["population"] == IN_DISTRIBUTION]
    names = [
        m for m in ("productivity", "equality", "houses", "houses_built") if m in set(own.measure)
    ]
    lines = []
    for m in names:
        per = own[own["measure"] == m].groupby(["rule", "seed"])["value"].mean()
        text = ", ".join(f"{REGIMES[r]} {per.loc[r].mean():.3g}" for r in REGIMES if r in per.index)
        lines.append(f"in-distribution {m} (mean over seeds): {text}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a coopsim stress --out folder")
    parser.add_argument("--measure", default="objective")
    args = parser.parse_args(argv)
    cells = load_cells(args.folder)
    obj = cells[cells["measure"] == args.measure]
    missing = sorted(set(REGIMES) - set(obj["rule"]))
    if missing:
        raise SystemExit(f"no cells for {', '.join(missing)} under {args.folder}")
    print(table(obj), "", *comparisons(obj), "", *exploiters(cells), "", *context(cells), sep="\n")
    seeds = sorted(int(s) for s in cells["seed"].unique())
    print(f"\ntraining seeds {seeds}; episodes per cell {cells['episode'].nunique()}")
    print("measures:", ", ".join(sorted(cells["measure"].unique())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
