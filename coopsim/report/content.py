"""The report's content, built from run directories, in the order a policy brief reads.

Title and question; the findings as computed sentences; the figures that have data; the
comparison table; the method; the resolved configs in an appendix. Everything here reads what
a run wrote (summary.json, scenario.toml, the parquet tables); no pipeline or world is
rebuilt, so a report describes a run as the version that made it saw it.
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
from coopsim.analysis.rules import pooled_run
from coopsim.intervals import Interval, zero_width_reason
from coopsim.measures import MEASURES
from coopsim.record import SCENARIO, RunData, load_run
from coopsim.report import numbers
from coopsim.report.brief_findings import SAID, Brief, brief, label_of, ranked_table
from coopsim.report.conditions import Condition, conditions
from coopsim.report.findings import objective_words
from coopsim.report.model import FigureBlock, Paragraph, Preformatted, Report, Section, Table
from coopsim.report.planner_section import planner_sections
from coopsim.report.replay_section import replay_sections
from coopsim.report.schelling_section import schelling_sections
from coopsim.report.stress_section import split_stress, stress_sections
from coopsim.report.sweep_section import split_sweeps

#: What the mechanism table says of a run written before summary.json recorded its mechanisms.
UNRECORDED_MECHANISMS = (
    "this run was written before runs recorded what their mechanisms do, so no description "
    "is shown; its scenario.toml in the appendix holds their parameters"
)

#: Mechanism kinds whose diagnostics include a tax schedule.
TAXES = ("tax",)


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

    Uses the command recorded in ``summary.json`` when the runner stored one; otherwise
    ``coopsim run`` on the run's ``scenario.toml`` with its seed, number of evaluation
    episodes and, for a learning run, its training iterations.
    """
    recorded = run.summary.get("command")
    if recorded:
        return recorded if isinstance(recorded, str) else " ".join(map(str, recorded))
    parts = ["coopsim", "run", str(run.path / SCENARIO), "--seed", str(run.summary.get("seed"))]
    if run.summary.get("episodes") is not None:
        parts += ["--episodes", str(run.summary["episodes"])]
    iterations = (run.summary.get("training") or {}).get("iterations")
    if iterations is not None:
        parts += ["--iterations", str(iterations)]
    parts += ["--out", "runs"]
    return " ".join(parts)


def _training_words(run: RunData) -> str:
    """The training budget as the runner records it under ``summary["training"]``."""
    training = run.summary.get("training") or {}
    bits = []
    for key, label in (
        ("iterations", "training iterations"),
        ("agent_steps", "agent-steps"),
        ("seconds", "seconds of training"),
    ):
        value = training.get(key)
        if isinstance(value, (int, float)):
            bits.append(f"{value:,.0f} {label}")
    if training.get("seed") is not None:
        bits.append(f"training seed {training['seed']}")
    if not bits and run.training_log is not None and not run.training_log.empty:
        bits.append(f"{len(run.training_log)} logged training iterations")
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
                "rules": s.get("mechanism"),
                "seed": s.get("seed"),
                "training": _training_words(run),
                "evaluation episodes": s.get("episodes"),
                "coopsim": s.get("coopsim_version"),
                "torch": s.get("torch_version"),
            }
        )
    return pd.DataFrame(rows)


def shown_measures(found: Sequence[Condition]) -> list[str]:
    """The measures of :data:`coopsim.measures.MEASURES` some condition has, in its order."""
    return [name for name in MEASURES if any(c.metric(name) is not None for c in found)]


def table_cell(est: Interval | None) -> str:
    """``mean [low, high]`` to the interval's precision; the mean alone where the interval has
    no width (the table's note says why); blank where a condition lacks the measure."""
    if est is None:
        return ""
    if not est.ci_high > est.ci_low:
        return numbers.number(est.mean, numbers.decimals(est.mean))
    return numbers.estimate(est.mean, est.ci_low, est.ci_high)


def comparison_table(found: Sequence[Condition]) -> pd.DataFrame:
    """Rows: measures, named with their unit from the registry; columns: conditions, each
    ``mean [95% CI]`` to the interval's precision (blank where a condition lacks it)."""
    rows = []
    for name in shown_measures(found):
        measure = MEASURES[name]
        if name == "objective":
            own = {objective_words(c) for c in found}
            if len(own) > 1:
                continue  # each rule's own objective: no one measure to set side by side
            row = {"measure, unit": f"objective: {own.pop()}"}
        else:
            row = {"measure, unit": f"{measure.label}, {measure.unit}"}
        for c in found:
            row[c.label] = table_cell(c.metric(name))
        rows.append(row)
    return pd.DataFrame(rows)


def build_content(
    runs: Iterable[RunData | str | os.PathLike],
    rank_by: str | None = None,
    stress: Iterable[str | os.PathLike] = (),
) -> Report:
    """Assemble the report's sections and figures for ``runs`` (loaded runs or run folders).

    ``rank_by``: the measure page one ranks the rules on where they share no objective (see
    :mod:`coopsim.report.brief_findings`). ``stress``: stress folders whose sections join the
    report without their runs (a stress folder among ``runs`` brings the runs it stressed)."""
    runs, sweeps = split_sweeps(runs)  # a sweep folder: its section, and its best cell's runs
    runs, folders = split_stress(runs)  # a stress folder: its section, and the runs it stressed
    runs = [_as_run(r) for r in runs]
    if not runs:
        raise ValueError("a report needs at least one run directory")
    found = conditions(runs)
    page_one = brief(runs, rank_by)
    # the stress test's rules named as the brief names them, the brief's rules only
    stressed = stress_sections([*folders, *stress], page_one.rules)
    pooled = [pooled_run(rule) for rule in page_one.rules]  # the figures draw one series a rule
    labels = tables.run_labels(runs)
    scenario_names = ", ".join(
        dict.fromkeys(str(r.summary.get("scenario") or r.name) for r in runs)
    )
    title = (
        f"Policy brief: {found[0].label} ({scenario_names})"
        if len(found) == 1
        else f"Policy brief: {len(found)} rules compared"
    )
    seeds = sorted({len(c.runs) for c in found})
    subtitle = (
        f"{len(runs)} run(s): {len(found)} rule(s) x {' or '.join(map(str, seeds))} training "
        "seed(s); the runs are listed under Method. Generated "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by coopsim "
        f"{coopsim.__version__}."
    )
    return Report(
        title,
        subtitle,
        [
            *sweeps,
            _summary_section(page_one),
            *stressed,
            _figure_section(pooled, [p.summary["scenario"] for p in pooled], found),
            *planner_sections(runs, labels),
            *replay_sections(runs, labels),
            *schelling_sections(runs, labels),
            _results_section(found),
            _method_section(runs, labels, found),
            _appendix_section(runs),
        ],
        data=page_one.as_dict(),
    )


def _summary_section(page_one: Brief) -> Section:
    """Page one: the question, the rules ranked, the findings in words, one figure."""
    measure = label_of(page_one.rank_by)
    units = sorted(set(page_one.table["units"]))
    blocks: list = [
        Paragraph(f"Question: {page_one.question}"),
        Table(
            ranked_table(page_one),
            caption=f"Rules ranked on {measure}, best first: mean [95% interval] over "
            f"{' or '.join(units)}; '=1' marks rules the data do not separate from the best.",
            digits=0,
        ),
    ]
    blocks += [
        Paragraph(f.sentence[:1].upper() + f.sentence[1:])
        for f in page_one.findings
        if f.key in SAID
    ]
    blocks.append(
        FigureBlock(
            "fig-ranking",
            figures.rule_ranking(page_one.table, page_one.rank_by, page_one.ranked),
            f"{measure.capitalize()} per rule, best at the top: mean and 95% interval over "
            "training seeds.",
        )
    )
    return Section("summary", "Summary", blocks)


def _mechanism_caption(run: RunData, label: str) -> str:
    kinds = [m[0] for m in mechanism_rows(run) or []] or [
        str(m.get("kind", "?")) for m in run.scenario.get("mechanisms", [])
    ]
    taxed = any(k in TAXES for k in kinds)
    return (
        f"Mechanisms at work, {label} ({' + '.join(kinds)}): "
        + ("the tax schedule, then " if taxed else "")
        + "what each mechanism collected from agents and paid to them per round "
        "(mean over episodes)."
    )


def _figure_section(
    runs: Sequence[RunData], labels: Sequence[str], found: Sequence[Condition]
) -> Section:
    """The figures that have data; a placeholder saying there is none is left out."""
    first = {run.name for run in runs}  # one wealth figure per rule
    candidates: list[FigureBlock] = []
    if len(runs) > 1:
        candidates.append(
            FigureBlock(
                "fig-equality-productivity",
                figures.equality_vs_productivity(runs),
                "Equality against productivity, one point per rule: the mean over its training "
                "seeds with its 95% interval over them (as in the tables): up and to the right "
                "is better.",
            )
        )
    candidates.append(
        FigureBlock(
            "fig-contributions",
            figures.contributions_per_round(runs),
            "Mean contribution per agent and round, one line per rule (coins; mean over its "
            "training seeds, 95% band over them; over episodes for a rule run at one seed).",
        )
    )
    candidates.append(
        FigureBlock(
            "fig-agents",
            figures.agent_outcomes(runs),
            "Final wealth per agent, per rule (coins; mean and 95% interval over the "
            "evaluation episodes of all its seeds).",
        )
    )
    candidates.append(
        FigureBlock("fig-lorenz", figures.lorenz_curves(runs), "Lorenz curves of final wealth.")
    )
    for run, label in zip(runs, labels):
        if run.name in first:
            candidates.append(
                FigureBlock(
                    f"fig-wealth-{run.name}",
                    figures.wealth_over_time(run),
                    f"Accumulated wealth per agent by round, {label} (coins; mean and 95% band "
                    "over episodes).",
                )
            )
    for run, label in zip(runs, labels):
        candidates.append(
            FigureBlock(
                f"fig-mechanism-{run.name}",
                figures.mechanism_parameters(run),
                _mechanism_caption(run, label),
            )
        )
    for run, label in zip(runs, labels):
        candidates.append(
            FigureBlock(
                f"fig-training-{run.name}",
                figures.metrics_over_training(run),
                f"Metrics over training, {label}: the training log of its first seed "
                f"({run.path.name}).",
            )
        )
    shown = [b for b in candidates if not isinstance(b.figure, figures.EmptyFigure)]
    return Section("figures", "Figures", list(shown))


def _results_section(found: Sequence[Condition]) -> Section:
    blocks: list = [
        Table(comparison_table(found), caption="Every measure: mean [95% confidence interval]")
    ]
    notes = [f"Intervals are over {'; '.join(f'{c.label}: {c.units}' for c in found)}."]
    flat = []
    for c in found:
        zero = [
            est
            for name in shown_measures([c])
            if (est := c.metric(name)) is not None and not est.ci_high > est.ci_low
        ]
        if zero:
            reason = zero_width_reason(zero[0].n, zero[0].std if zero[0].std == zero[0].std else 0)
            flat.append(f"{c.label}: {reason}" if reason else c.label)
    if flat:
        notes.append(
            "A mean shown without an interval has one of zero width: " + "; ".join(flat) + "."
        )
    blocks.append(Paragraph(" ".join(notes)))
    return Section("results", "Comparison", blocks)


def _method_section(
    runs: Sequence[RunData], labels: Sequence[str], found: Sequence[Condition]
) -> Section:
    section = Section("method", "Method")
    section.blocks.append(
        Paragraph(
            "Each run was evaluated over independent episodes played in parallel as the batch "
            "axis of one world. Results are means with Student-t 95% confidence intervals: "
            "over evaluation episodes for a set of rules run once (as its summary.json "
            "stores them), over the runs' means for one run several times (seeds). Wealth is "
            "an agent's total net payoff over an episode, in coins; inequality indices use "
            f"wealth floored at zero. Python {platform.python_version()}."
        )
    )
    objectives = [f"{c.label}: {objective_words(c)}" for c in found]
    section.blocks.append(
        Paragraph(
            "The objective is the social objective each set of rules is judged by (a "
            "planner's reward where there is one): " + "; ".join(objectives) + "."
        )
    )
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
    section.blocks += _mechanism_blocks(found)
    section.blocks.append(Table(method_table(runs), caption="Training budget, seeds, versions"))
    commands = "\n".join(f"# {label}\n{reproduce_command(r)}" for r, label in zip(runs, labels))
    section.blocks.append(Preformatted(commands, caption="Commands to reproduce each run"))
    return section


def _mechanism_blocks(found: Sequence[Condition]) -> list:
    blocks: list = []
    for c in found:
        run = c.runs[0]
        rows = mechanism_rows(run)
        kinds = [str(m.get("kind", "?")) for m in run.scenario.get("mechanisms", [])]
        if not (rows or kinds):
            blocks.append(Paragraph(f"{c.label}: the bare game, no mechanism."))
            continue
        if rows is None:
            blocks.append(Paragraph(f"{c.label}: {' -> '.join(kinds)}; {UNRECORDED_MECHANISMS}."))
        else:
            controls = (run.scenario.get("planner") or {}).get("controls", [])
            planned = {str(name).split(".")[0] for name in controls}
            rows = [
                (kind, what, "set by the planner (see below)" if kind in planned else done)
                for kind, what, done in rows
            ]  # the recorded values of a controlled parameter are only its starting point
            frame = pd.DataFrame(rows, columns=["mechanism", "what it is", "as configured"])
            blocks.append(Table(frame, caption=f"{c.label}: mechanism pipeline, in order"))
        planner = run.scenario.get("planner")
        if planner:
            blocks.append(Paragraph(_planner_words(c, planner)))
    return blocks


def _planner_words(condition: Condition, planner: dict) -> str:
    """What a learning planner set, from which values, for what, and what it chose per seed."""
    controls = list(planner.get("controls", []))
    grid = planner.get("grid") or {}
    chosen = [
        (run.summary.get("seed"), (run.summary.get("training") or {}).get("planner_schedule"))
        for run in condition.runs
    ]
    parts = []
    for k, name in enumerate(controls):
        span = grid.get(name)
        where = f" within {span[0]:g} to {span[1]:g}" if span and len(span) == 2 else ""
        picks = ", ".join(
            f"{values[k]:g} at seed {seed}" for seed, values in chosen if values and len(values) > k
        )
        parts.append(f"{name}{where}" + (f" (it chose {picks})" if picks else ""))
    settings = ", ".join(
        f"{k} = {v}"
        for k, v in planner.items()
        if k not in ("controls", "grid", "objective") and v not in ("", [], {}, None)
    )
    objective = str(planner.get("objective", "?")).replace("_", " ")
    return (
        f"{condition.label}: a learning planner sets {'; '.join(parts) or 'the rules'}, "
        f"trained for {objective}. Its settings: {settings}."
    )


def _appendix_section(runs: Sequence[RunData]) -> Section:
    """Each distinct scenario's resolved config, as it ran: enough to reproduce it."""
    section = Section("appendix", "Appendix: resolved scenarios")
    seen: set[str] = set()
    for run in runs:
        name = str(run.summary.get("scenario", run.name))
        if name in seen:
            continue
        seen.add(name)
        toml_path = run.path / SCENARIO
        config = toml_path.read_text() if toml_path.exists() else "(scenario.toml missing)"
        section.blocks.append(
            Preformatted(config.strip(), caption=f"{name}: resolved scenario.toml")
        )
    return section
