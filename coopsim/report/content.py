"""The report's content, built from run directories: every section's text, tables and figures.

Everything here reads what a run wrote (summary.json, scenario.toml, the parquet tables); no
pipeline or world is rebuilt, so a report describes a run as the version that made it saw it.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import pandas as pd

import coopsim
from coopsim import figures
from coopsim.analysis import tables
from coopsim.record import SCENARIO, RunData, load_run
from coopsim.report.model import FigureBlock, Paragraph, Preformatted, Report, Section, Table
from coopsim.report.sweep_section import split_sweeps

#: Metrics in the results table, in this order (those a run lacks are left out).
RESULT_METRICS = tables.DEFAULT_METRICS

#: What the mechanism table says of a run written before summary.json recorded its mechanisms.
UNRECORDED_MECHANISMS = (
    "this run was written before runs recorded what their mechanisms do, so no description "
    "is shown; its scenario.toml above holds their parameters"
)


def _as_run(run: RunData | str | os.PathLike) -> RunData:
    return run if isinstance(run, RunData) else load_run(run)


def mechanism_rows(run: RunData) -> list[tuple[str, str, str]] | None:
    """(kind, what it is, what it does as configured) per mechanism, as the run recorded them.

    None for a run whose summary.json predates the record: its mechanisms are not described
    rather than guessed from a config this version may build differently, or not at all.
    """
    recorded = run.summary.get("mechanisms")
    if recorded is None:
        return None
    return [(m["kind"], m["summary"], m["description"]) for m in recorded]


def _population_words(run: RunData) -> str:
    groups = run.scenario.get("population", [])
    parts = [f"{g.get('count', 1)} x {g.get('policy', '?')}" for g in groups]
    return ", ".join(parts) if parts else "not recorded"


def _world_words(run: RunData) -> str:
    world = run.scenario.get("world", {})
    if not world:
        return "The world's configuration was not recorded."
    kind = world.get("kind", "?")
    params = ", ".join(f"{k} = {v}" for k, v in world.items() if k != "kind")
    return f"World: {kind} ({params})."


def reproduce_command(run: RunData) -> str:
    """The shell command that re-creates ``run`` from its own resolved config.

    Uses the command recorded in ``summary.json`` when the runner stored one (training runs
    have more options); otherwise ``coopsim run`` on the run's ``scenario.toml`` with its seed
    and number of evaluation episodes, which re-creates an evaluated run exactly.
    """
    recorded = run.summary.get("command")
    if recorded:
        return recorded if isinstance(recorded, str) else " ".join(map(str, recorded))
    parts = ["coopsim", "run", str(run.path / SCENARIO), "--seed", str(run.summary.get("seed"))]
    if run.summary.get("episodes") is not None:
        parts += ["--episodes", str(run.summary["episodes"])]
    if run.summary.get("iterations") is not None:
        parts += ["--iterations", str(run.summary["iterations"])]
    parts += ["--out", "runs"]
    return " ".join(parts)


def _training_words(run: RunData) -> str:
    s = run.summary
    bits = []
    for key, label in (
        ("iterations", "training iterations"),
        ("env_steps", "environment steps"),
        ("train_seconds", "seconds of training"),
    ):
        if s.get(key) is not None:
            value = s[key]
            bits.append(
                f"{value:,.0f} {label}" if isinstance(value, (int, float)) else f"{value} {label}"
            )
    if run.metrics is not None and not run.metrics.empty and not bits:
        bits.append(f"{len(run.metrics)} logged training iterations")
    if not bits:
        return "none: scripted policies, evaluated without training"
    return ", ".join(bits)


def method_table(runs: Sequence[RunData]) -> pd.DataFrame:
    """One row per run: training budget, evaluation episodes, seed, versions, when it ran."""
    rows = []
    for run in runs:
        s = run.summary
        rows.append(
            {
                "run": run.name,
                "scenario": s.get("scenario"),
                "mechanism": s.get("mechanism"),
                "seed": s.get("seed"),
                "training": _training_words(run),
                "evaluation episodes": s.get("episodes"),
                "coopsim": s.get("coopsim_version"),
                "torch": s.get("torch_version"),
                "created": s.get("created"),
            }
        )
    return pd.DataFrame(rows)


def _result_metrics(run: RunData) -> list[str]:
    """Every metric in the run's summary.json: the usual ones in their order, then the rest.

    A metric the runner adds later (the scenario's social ``objective``) is reported rather
    than silently left out of the results.
    """
    stored = run.summary.get("metrics", {})
    return [m for m in RESULT_METRICS if m in stored] + [
        m for m in stored if m not in RESULT_METRICS
    ]


def _objective_words(run: RunData) -> str | None:
    """The social objective the run's ``objective`` metric measures, or None if unrecorded."""
    planner = run.scenario.get("planner") or {}
    name = planner.get("objective") or run.scenario.get("evaluation", {}).get("objective")
    if not name:
        return None
    weights = planner.get("weights") if planner.get("objective") else None
    if weights:
        name += " (" + ", ".join(f"{k} = {v}" for k, v in weights.items()) + ")"
    return str(name)


def results_table(run: RunData, *, n_boot: int = 2000) -> pd.DataFrame:
    """The run's metrics: mean and Student-t 95% CI as in summary.json, plus a bootstrap CI."""
    stored = run.summary.get("metrics", {})
    metrics = _result_metrics(run)
    boot = tables.summary(run, metrics, n_boot=n_boot).set_index("metric")
    rows = []
    for metric in metrics:
        s = stored[metric]
        b = boot.loc[metric] if metric in boot.index else None
        rows.append(
            {
                "metric": metric,
                "mean": s["mean"],
                "ci_low": s["ci_low"],
                "ci_high": s["ci_high"],
                "bootstrap_low": b["ci_low"] if b is not None else float("nan"),
                "bootstrap_high": b["ci_high"] if b is not None else float("nan"),
                "n": int(s.get("n", 0)),
            }
        )
    return pd.DataFrame(rows)


def build_content(runs: Iterable[RunData | str | os.PathLike], *, n_boot: int = 2000) -> Report:
    """Assemble the report's sections and figures for ``runs`` (loaded runs or run folders)."""
    runs, sweeps = split_sweeps(runs)  # a sweep folder: its section, and its best cell's runs
    runs = [_as_run(r) for r in runs]
    if not runs:
        raise ValueError("a report needs at least one run directory")
    labels = tables.run_labels(runs)
    scenarios = list(dict.fromkeys(str(r.summary.get("scenario", r.name)) for r in runs))
    title = "coopsim report: " + (
        scenarios[0] if len(scenarios) == 1 else f"{len(scenarios)} scenarios compared"
    )
    subtitle = (
        f"{len(runs)} run(s): {', '.join(labels)}. Generated "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by coopsim "
        f"{coopsim.__version__}."
    )
    return Report(
        title,
        subtitle,
        [
            *sweeps,
            _scenario_section(runs),
            _mechanism_section(runs, labels),
            _method_section(runs, labels, n_boot),
            _results_section(runs, labels, n_boot),
            _figure_section(runs, labels),
        ],
    )


def _scenario_section(runs: Sequence[RunData]) -> Section:
    """Each distinct scenario once: in words, then its resolved config as it ran."""
    section = Section("scenario", "Scenario")
    seen: set[str] = set()
    for run in runs:
        name = str(run.summary.get("scenario", run.name))
        if name in seen:
            continue
        seen.add(name)
        desc = run.scenario.get("description") or "(no description recorded)"
        section.blocks.append(
            Paragraph(f"{name}: {desc} {_world_words(run)} Population: {_population_words(run)}.")
        )
        toml_path = run.path / SCENARIO
        config = toml_path.read_text() if toml_path.exists() else "(scenario.toml missing)"
        section.blocks.append(
            Preformatted(config.strip(), caption=f"{name}: resolved scenario.toml")
        )
    return section


def _mechanism_section(runs: Sequence[RunData], labels: Sequence[str]) -> Section:
    section = Section("mechanisms", "Mechanisms")
    for run, label in zip(runs, labels):
        kinds = [str(m.get("kind", "?")) for m in run.scenario.get("mechanisms", [])]
        rows = mechanism_rows(run)
        if not (rows or kinds):
            section.blocks.append(Paragraph(f"{label}: no mechanism (the bare game)."))
            continue
        if rows is None:
            section.blocks.append(
                Paragraph(f"{label}: {' -> '.join(kinds)}; {UNRECORDED_MECHANISMS}.")
            )
        else:
            frame = pd.DataFrame(rows, columns=["mechanism", "what it is", "as configured"])
            section.blocks.append(Table(frame, caption=f"{label}: mechanism pipeline, in order"))
        if run.scenario.get("planner"):
            planner = run.scenario["planner"]
            section.blocks.append(
                Paragraph(
                    f"{label}: a learning planner sets the {planner.get('mechanism', '?')} "
                    "mechanism's parameters; "
                    + ", ".join(f"{k} = {v}" for k, v in planner.items() if k != "mechanism")
                    + "."
                )
            )
    return section


def _method_section(runs: Sequence[RunData], labels: Sequence[str], n_boot: int) -> Section:
    section = Section("method", "Method")
    section.blocks.append(
        Paragraph(
            "Each run was evaluated over independent episodes played in parallel as the batch "
            "axis of one world. Results are means over those episodes with 95% confidence "
            "intervals: the Student-t interval stored in summary.json, and a percentile "
            f"bootstrap interval ({n_boot} resamples of the per-episode metrics). Wealth is an "
            "agent's total net payoff over an episode, in coins; inequality indices use wealth "
            f"floored at zero. Python {platform.python_version()}."
        )
    )
    objectives = [
        f"{label}: {words}"
        for run, label in zip(runs, labels)
        if "objective" in run.summary.get("metrics", {})
        and (words := _objective_words(run)) is not None
    ]
    if objectives:
        section.blocks.append(
            Paragraph(
                "The objective metric is the social objective each run is judged by: "
                + "; ".join(objectives)
                + "."
            )
        )
    section.blocks.append(Table(method_table(runs), caption="Training budget, seeds, versions"))
    commands = "\n".join(f"# {label}\n{reproduce_command(r)}" for r, label in zip(runs, labels))
    section.blocks.append(Preformatted(commands, caption="Commands to reproduce each run"))
    return section


def _results_section(runs: Sequence[RunData], labels: Sequence[str], n_boot: int) -> Section:
    section = Section("results", "Results")
    for run, label in zip(runs, labels):
        section.blocks.append(
            Table(
                results_table(run, n_boot=n_boot),
                caption=f"{label}: mean over evaluation episodes, 95% CI (Student t, as in "
                "summary.json) and 95% bootstrap CI",
            )
        )
    if len(runs) > 1:
        cmp = tables.compare(runs, RESULT_METRICS[:7], n_boot=n_boot)
        text = tables.format_compare(cmp)
        text.columns = labels
        section.blocks.append(
            Table(
                text.reset_index(names="metric"),
                caption="Comparison across runs: mean [95% bootstrap CI]",
            )
        )
    return section


def _figure_section(runs: Sequence[RunData], labels: Sequence[str]) -> Section:
    blocks: list[FigureBlock] = [
        FigureBlock(
            f"fig-training-{run.name}",
            figures.metrics_over_training(run),
            f"Metrics over training, {label}.",
        )
        for run, label in zip(runs, labels)
    ]
    blocks.append(
        FigureBlock("fig-lorenz", figures.lorenz_curves(runs), "Lorenz curves of final wealth.")
    )
    blocks += [
        FigureBlock(
            f"fig-wealth-{run.name}",
            figures.wealth_over_time(run),
            f"Accumulated wealth per agent by round, {label} (mean and 95% band over episodes).",
        )
        for run, label in zip(runs, labels)
    ]
    blocks.append(
        FigureBlock(
            "fig-agents",
            figures.agent_outcomes(runs),
            "Final wealth per agent (mean and 95% bootstrap CI over episodes).",
        )
    )
    blocks.append(
        FigureBlock(
            "fig-contributions",
            figures.contributions_per_round(runs),
            "Mean contribution per agent and round (95% band over episodes).",
        )
    )
    blocks += [
        FigureBlock(
            f"fig-mechanism-{run.name}",
            figures.mechanism_parameters(run),
            f"Mechanism diagnostics, {label}: tax schedule and what each mechanism collected "
            "and paid out per round.",
        )
        for run, label in zip(runs, labels)
    ]
    blocks.append(
        FigureBlock(
            "fig-equality-productivity",
            figures.equality_vs_productivity(runs),
            "Equality against productivity, one point per run, 95% CI error bars.",
        )
    )
    blocks.append(
        FigureBlock(
            "fig-compare",
            figures.compare_metrics(runs),
            "Comparison across runs on the headline metrics (mean and 95% bootstrap CI).",
        )
    )
    return Section("figures", "Figures", list(blocks))
