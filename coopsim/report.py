"""Scenario reports: one self-contained HTML file (or PDF) describing and comparing runs.

A report has the same sections in both formats: the title; the scenario in words and as its
resolved config; the mechanisms; the method (training budget, evaluation episodes, seeds,
library versions and the command that reproduces each run); a results table with confidence
intervals; and figures (metrics over training, Lorenz curves, wealth and outcomes per agent,
contributions, mechanism diagnostics, and the comparison across runs).

The content is assembled once as a list of :class:`Section` objects holding paragraphs,
preformatted text, tables and figures, then rendered: to HTML with every figure embedded as a
base64 PNG (no external assets, so the file can be mailed or archived as it is), or to PDF with
matplotlib's ``PdfPages`` (no browser, no network). Nothing here needs the internet.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import platform
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

import coopsim
from coopsim import figures
from coopsim.analysis import tables
from coopsim.record import SCENARIO, RunData, load_run

#: Metrics in the results table, in this order (those a run lacks are left out).
RESULT_METRICS = tables.DEFAULT_METRICS

#: Resolution of embedded figures (dots per inch).
DPI = 110


@dataclass
class Paragraph:
    text: str


@dataclass
class Preformatted:
    text: str
    caption: str = ""


@dataclass
class Table:
    frame: pd.DataFrame
    caption: str = ""
    # Columns whose numbers tests and readers compare with summary.json, shown with 4 digits.
    digits: int = 4


@dataclass
class FigureBlock:
    key: str  # stable identifier: the HTML element id and what tests look for
    figure: Figure
    caption: str


Block = Paragraph | Preformatted | Table | FigureBlock


@dataclass
class Section:
    key: str  # HTML id of the section
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]

    def figures(self) -> list[FigureBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, FigureBlock)]


# ----------------------------------------------------------------------------- content


def _as_run(run: RunData | str | os.PathLike) -> RunData:
    return run if isinstance(run, RunData) else load_run(run)


def _mechanism_descriptions(run: RunData) -> list[tuple[str, str, str]]:
    """(kind, what it is, what it does with these parameters) for each mechanism of ``run``.

    The parameter sentence comes from the mechanism itself (``describe()``) by rebuilding the
    run's resolved scenario; a config this version can no longer build falls back to the raw
    parameters, so old runs still get a report.
    """
    from mechanisms import MECHANISMS

    raw = run.scenario.get("mechanisms", [])
    described: list[str] | None = None
    try:
        from coopsim import scenario as sc

        built = sc.from_dict(run.scenario, source=str(run.path / SCENARIO))
        pipeline = sc.make_pipeline(built, 1, sc.resolve_device("cpu"))
        described = [m.describe() for m in pipeline.mechanisms]
    except Exception:  # an old or foreign config: show what it says instead
        described = None
    out = []
    for i, mech in enumerate(raw):
        kind = str(mech.get("kind", "?"))
        cls = MECHANISMS.get(kind)
        summary = getattr(cls, "summary", "") if cls is not None else ""
        if described is not None and i < len(described):
            detail = described[i]
        else:
            detail = ", ".join(f"{k} = {v}" for k, v in mech.items() if k != "kind")
        out.append((kind, summary, detail))
    return out


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

    # The scenario, in words and as config (each distinct scenario once).
    scen = Section("scenario", "Scenario")
    seen: set[str] = set()
    for run in runs:
        name = str(run.summary.get("scenario", run.name))
        if name in seen:
            continue
        seen.add(name)
        desc = run.scenario.get("description") or "(no description recorded)"
        scen.blocks.append(
            Paragraph(f"{name}: {desc} {_world_words(run)} Population: {_population_words(run)}.")
        )
        toml_path = run.path / SCENARIO
        config = toml_path.read_text() if toml_path.exists() else "(scenario.toml missing)"
        scen.blocks.append(Preformatted(config.strip(), caption=f"{name}: resolved scenario.toml"))

    mech = Section("mechanisms", "Mechanisms")
    for run, label in zip(runs, labels):
        described = _mechanism_descriptions(run)
        if not described:
            mech.blocks.append(Paragraph(f"{label}: no mechanism (the bare game)."))
            continue
        frame = pd.DataFrame(described, columns=["mechanism", "what it is", "as configured"])
        mech.blocks.append(Table(frame, caption=f"{label}: mechanism pipeline, in order"))
        if run.scenario.get("planner"):
            planner = run.scenario["planner"]
            mech.blocks.append(
                Paragraph(
                    f"{label}: a learning planner sets the {planner.get('mechanism', '?')} "
                    "mechanism's parameters; "
                    + ", ".join(f"{k} = {v}" for k, v in planner.items() if k != "mechanism")
                    + "."
                )
            )

    method = Section("method", "Method")
    method.blocks.append(
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
        method.blocks.append(
            Paragraph(
                "The objective metric is the social objective each run is judged by: "
                + "; ".join(objectives)
                + "."
            )
        )
    method.blocks.append(Table(method_table(runs), caption="Training budget, seeds, versions"))
    commands = "\n".join(f"# {label}\n{reproduce_command(r)}" for r, label in zip(runs, labels))
    method.blocks.append(Preformatted(commands, caption="Commands to reproduce each run"))

    results = Section("results", "Results")
    for run, label in zip(runs, labels):
        results.blocks.append(
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
        results.blocks.append(
            Table(
                text.reset_index(names="metric"),
                caption="Comparison across runs: mean [95% bootstrap CI]",
            )
        )

    figs = Section("figures", "Figures")
    for run, label in zip(runs, labels):
        figs.blocks.append(
            FigureBlock(
                f"fig-training-{run.name}",
                figures.metrics_over_training(run),
                f"Metrics over training, {label}.",
            )
        )
    figs.blocks.append(
        FigureBlock("fig-lorenz", figures.lorenz_curves(runs), "Lorenz curves of final wealth.")
    )
    for run, label in zip(runs, labels):
        figs.blocks.append(
            FigureBlock(
                f"fig-wealth-{run.name}",
                figures.wealth_over_time(run),
                f"Accumulated wealth per agent by round, {label} (mean and 95% band over "
                "episodes).",
            )
        )
    figs.blocks.append(
        FigureBlock(
            "fig-agents",
            figures.agent_outcomes(runs),
            "Final wealth per agent (mean and 95% bootstrap CI over episodes).",
        )
    )
    figs.blocks.append(
        FigureBlock(
            "fig-contributions",
            figures.contributions_per_round(runs),
            "Mean contribution per agent and round (95% band over episodes).",
        )
    )
    for run, label in zip(runs, labels):
        figs.blocks.append(
            FigureBlock(
                f"fig-mechanism-{run.name}",
                figures.mechanism_parameters(run),
                f"Mechanism diagnostics, {label}: tax schedule and what each mechanism "
                "collected and paid out per round.",
            )
        )
    figs.blocks.append(
        FigureBlock(
            "fig-equality-productivity",
            figures.equality_vs_productivity(runs),
            "Equality against productivity, one point per run, 95% CI error bars.",
        )
    )
    figs.blocks.append(
        FigureBlock(
            "fig-compare",
            figures.compare_metrics(runs),
            "Comparison across runs on the headline metrics (mean and 95% bootstrap CI).",
        )
    )
    return Report(title, subtitle, [scen, mech, method, results, figs])


# ----------------------------------------------------------------------------- table cells

#: One number as the tables print it: optional sign, thousands separators, decimals, exponent.
_NUMBER = r"[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?"
#: A numeric cell: a number, optionally followed by its interval "[low, high]", or a gap.
_NUMERIC_CELL = re.compile(rf"(?:{_NUMBER}(?:\s*\[{_NUMBER},\s*{_NUMBER}\])?|nan|-?inf|)")


def _cell_text(value: Any, digits: int, missing: str = "") -> str:
    """How a table prints one value: floats with ``digits`` decimals, gaps as ``missing``."""
    if value is None:
        return missing
    if isinstance(value, (float, np.floating)):
        return missing if np.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def _numeric_columns(frame: pd.DataFrame, digits: int) -> list[bool]:
    """Which columns hold numbers, so they can be right-aligned and their digits line up.

    A column counts as numeric when pandas stores it as numbers, or when every printed cell
    reads as a number (the comparison table holds "mean [low, high]" as text).
    """
    flags = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series):
            flags.append(False)
        elif pd.api.types.is_numeric_dtype(series):
            flags.append(True)
        else:
            cells = [_cell_text(v, digits) for v in series]
            flags.append(any(cells) and all(_NUMERIC_CELL.fullmatch(c) for c in cells))
    return flags


# ----------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; vertical-align: bottom; } .num { text-align: right; }
.table-scroll { overflow-x: auto; } td.prose { min-width: 18em; }
tbody tr:nth-child(even) { background: #f8f9fb; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
nav a { margin-right: 1em; }
"""


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


#: Text cells longer than this make their column a prose column with a minimum width.
PROSE_CHARS = 40


def _html_table(block: Table) -> str:
    """A table whose numbers are right-aligned and whose text reads from the left.

    Right-aligning every column (as a spreadsheet does numbers) left descriptions ragged on
    the left; only numeric columns get the ``num`` class.
    """
    frame = block.frame
    numeric = _numeric_columns(frame, block.digits)
    cells = [[_cell_text(v, block.digits) for v in row] for row in frame.itertuples(index=False)]
    # Columns of sentences (a training budget in words) keep a readable width; in a narrow
    # window the table scrolls sideways instead of squeezing them a word per line.
    prose = [
        not num and any(len(row[j]) > PROSE_CHARS for row in cells) for j, num in enumerate(numeric)
    ]

    def cls(num: bool, long: bool = False) -> str:
        return ' class="num"' if num else ' class="prose"' if long else ""

    head = "".join(
        f"<th{cls(num)}>{html.escape(str(c))}</th>" for c, num in zip(frame.columns, numeric)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{cls(num, long)}>{html.escape(text)}</td>"
            for text, num, long in zip(row, numeric, prose)
        )
        + "</tr>"
        for row in cells
    )
    cap = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    return (
        f'<div class="table-scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def render_html(report: Report) -> str:
    """The report as one HTML document; figures are inline ``data:`` PNGs."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        f'<p class="subtitle">{html.escape(report.subtitle)}</p>',
        "<nav>"
        + "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in report.sections)
        + "</nav>",
    ]
    for section in report.sections:
        parts.append(f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(f"<p>{html.escape(block.text)}</p>")
            elif isinstance(block, Preformatted):
                if block.caption:
                    parts.append(f"<p><strong>{html.escape(block.caption)}</strong></p>")
                parts.append(f"<pre>{html.escape(block.text)}</pre>")
            elif isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, FigureBlock):
                data = base64.b64encode(figure_png(block.figure)).decode("ascii")
                parts.append(
                    f'<figure id="{html.escape(block.key)}">'
                    f'<img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(block.caption)}</figcaption></figure>"
                )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- PDF

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MARGIN = 0.6  # inches
_WIDTH = _PAGE[0] - 2 * _MARGIN  # the text block's width, inches
_LINE = 0.17  # inches per line of 8.5 pt text

_TABLE_SIZE = 7.5  # pt, table body and header
_TABLE_LEADING = 1.3  # line height in a table cell, as a multiple of the font size
_PAD_X = 0.06  # inches of white either side of a cell's text
_PAD_Y = 0.035  # inches of white above and below a row's text
_TEXT_MIN = 1.6  # inches: words wider than this break inside a text column
_TEXT_COMFORT = 1.3  # inches a text column is given before columns move to another group
_ZEBRA = "#eef1f5"  # shading of every second body row
_RULE = "#222222"
_SOFT_BREAKS = "_-/+,.:;="  # a word too wide for its column breaks after one of these
_STRONG_BREAKS = "-/+,:;="  # ... preferably after one of these
_EPS = 1e-6  # inches: text measured to fit exactly fits, whatever the float round-off
_CODE_SIZE = 7.0  # pt, preformatted text
_CODE_TOGETHER = 16  # preformatted blocks up to this many lines are never split


@functools.lru_cache(maxsize=8)
def _font(size: float, bold: bool) -> FontProperties:
    return FontProperties(family="sans-serif", size=size, weight="bold" if bold else "normal")


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of ``text`` set in the report's sans-serif font.

    Measured with the font files the PDF backend embeds, so columns are sized to what is
    printed rather than to a character count (a proportional font has no fixed advance). The
    sum of per-character advances leaves kerning out, which only tightens pairs: it is never
    narrower than the printed text (at most a few percent wider), and it costs a dictionary
    lookup per character where shaping each candidate line took most of the layout time.
    """
    return sum(_char_width(ch, size, bold) for ch in text)


@functools.cache
def _char_width(ch: str, size: float, bold: bool) -> float:
    width, _, _ = _measurer().get_text_width_height_descent(ch, _font(size, bold), ismath=False)
    return width / 72


@functools.cache
def _measurer() -> TextToPath:
    return TextToPath()


def _split_word(word: str, width: float, size: float, bold: bool) -> tuple[str, str]:
    """Break a word wider than ``width`` where a reader expects it.

    Preferably after a separator between parts (``-``, ``+``, ``/``...: run names, dates,
    pipelines), else after an underscore or dot inside an identifier, else mid-word.
    """
    fits = [i for i in range(1, len(word)) if _text_width(word[:i], size, bold) <= width + _EPS]
    if not fits:
        return word[:1], word[1:]
    strong = [i for i in fits if word[i - 1] in _STRONG_BREAKS]
    weak = [i for i in fits if word[i - 1] in _SOFT_BREAKS]
    if strong and _text_width(word[: strong[-1]], size, bold) >= 0.4 * width:
        cut = strong[-1]
    else:
        cut = (weak or strong or fits)[-1]
    return word[:cut], word[cut:]


def _wrap_measured(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap of ``text`` into lines at most ``width`` inches wide.

    Nothing is dropped: a word wider than a line breaks after an underscore, hyphen or similar
    (identifiers and run names), or mid-word when it has none.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if _text_width(candidate, size, bold) <= width + _EPS:
                line = candidate
                continue
            if line:
                lines.append(line)
            while _text_width(word, size, bold) > width + _EPS and len(word) > 1:
                head, word = _split_word(word, width, size, bold)
                lines.append(head)
            line = word
        lines.append(line)
    return lines


def _wrap_cell(text: str, width: float, numeric: bool, stacked: bool = False) -> list[str]:
    """A body cell's lines in a column ``width`` inches wide (padding excluded).

    A number never breaks. "mean [low, high]" breaks only before its interval, and only when
    the column is ``stacked``, so every such cell of a table reads the same way: the mean on
    top, its interval beneath it, as in printed tables.
    """
    if not numeric:
        return _wrap_measured(text, width, _TABLE_SIZE)
    if stacked:
        return [p for p in _pieces(text, True) if p] or [""]
    return [text]


def _pieces(text: str, numeric: bool) -> list[str]:
    """The parts of a cell that can never be split across lines."""
    if numeric:
        return re.split(r"\s+(?=\[)", text)
    return text.split() or [""]


@dataclass
class _Column:
    """One column of a PDF table and the widths it can be set in (inches, padding included)."""

    header: str
    cells: list[str]
    numeric: bool
    least: float = 0.0  # narrowest width without breaking a word (text words capped)
    body: float = 0.0  # every body cell on one line
    natural: float = 0.0  # every body cell and the header on one line
    header_full: float = 0.0  # the header on one line
    comfort: float = 0.0  # what the column asks for when columns are packed into groups
    width: float = 0.0  # as laid out
    stacked: bool = False  # intervals go beneath their means

    def __post_init__(self) -> None:
        size, pad = _TABLE_SIZE, 2 * _PAD_X
        header_parts = [p for w in self.header.split() for p in re.split(r"(?<=[_\-/])", w)]
        header_least = max((_text_width(p, size, True) for p in header_parts if p), default=0)
        cell_least = max(
            (_text_width(p, size) for c in self.cells for p in _pieces(c, self.numeric)),
            default=0.0,
        )
        if not self.numeric:
            cell_least = min(cell_least, _TEXT_MIN)
        body = max((_text_width(ln, size) for c in self.cells for ln in c.split("\n")), default=0)
        self.least = max(cell_least, header_least) + pad
        self.body = max(body + pad, self.least)
        self.header_full = _text_width(self.header, size, True) + pad
        self.natural = max(self.body, self.header_full)
        if self.numeric:  # numbers never wrap; room for the header on at most two lines
            self.comfort = max(self.least, self.header_width(2))
        else:
            self.comfort = min(self.body, max(self.least, _TEXT_COMFORT))

    def header_width(self, lines: int) -> float:
        """The narrowest width (to 0.01 in) at which the header takes at most ``lines``."""

        def fits(width: float) -> bool:
            inner = width - 2 * _PAD_X
            return len(_wrap_measured(self.header, inner, _TABLE_SIZE, True)) <= lines

        lo, hi = 2 * _PAD_X, self.header_full
        if fits(lo):
            return lo
        while hi - lo > 0.01:
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if fits(mid) else (mid, hi)
        return hi

    @property
    def intervals(self) -> bool:
        """Whether some cell is a "mean [low, high]" that can stack."""
        return self.numeric and any(len(_pieces(c, True)) > 1 for c in self.cells)

    def lines_at(self, width: float) -> int:
        """The most lines any body cell takes when the column is ``width`` inches wide."""
        if self.numeric:
            return 2 if self.intervals and width < self.body - _EPS else 1
        inner = width - 2 * _PAD_X
        return max((len(_wrap_cell(c, inner, False)) for c in self.cells), default=1)

    def width_for(self, lines: int) -> float:
        """The narrowest width (to 0.01 in) at which no body cell takes more than ``lines``."""
        lo, hi = self.least, self.body
        if self.lines_at(lo) <= lines:
            return lo
        if self.lines_at(hi) > lines:
            return hi
        while hi - lo > 0.01:
            mid = (lo + hi) / 2
            if self.lines_at(mid) <= lines:
                hi = mid
            else:
                lo = mid
        return hi


def _column_groups(columns: list[_Column], avail: float) -> list[list[int]]:
    """Split columns into groups that fit ``avail`` inches, each led by the first column.

    A table too wide for the page reads as several narrower tables that repeat the row names,
    rather than as columns squeezed until every cell is a tower of one-word lines.
    """
    if len(columns) < 2 or sum(c.comfort for c in columns) <= avail:
        return [list(range(len(columns)))]
    groups: list[list[int]] = []
    used = avail + 1.0
    for i in range(1, len(columns)):
        if used + columns[i].comfort > avail and (not groups or len(groups[-1]) > 1):
            groups.append([0])
            used = columns[0].comfort
        groups[-1].append(i)
        used += columns[i].comfort
    return groups


def _set_widths(columns: list[_Column], avail: float) -> None:
    """Choose one group's column widths: as few lines per row as the page width allows.

    Everything on one line when it fits. Otherwise the smallest line count ``L`` such that
    every column holds each of its cells in at most ``L`` lines within ``avail``; what is left
    goes first to numeric columns whose headers would take more than two lines, then to the
    text columns that still wrap (in proportion to what they lack), then to whole headers.
    Intervals stack in every column of the group or in none, and headers are made whole all
    together or not at all, so a table keeps one layout throughout.
    """
    if sum(c.natural for c in columns) <= avail:
        for c in columns:
            c.width = c.natural
        return
    most = max(c.lines_at(c.least) for c in columns)
    widths = [c.least for c in columns]
    for lines in range(1, most + 1):
        widths = [c.width_for(lines) for c in columns]
        if sum(widths) <= avail:
            break
    for c, w in zip(columns, widths):
        c.width = w
    stacked = any(c.intervals and c.width < c.body - _EPS for c in columns)
    for c in columns:
        c.stacked = stacked and c.intervals
        if c.stacked:
            c.width = c.least
    raised = [max(c.width, c.comfort) if c.numeric else c.width for c in columns]
    if sum(raised) <= avail:
        for c, w in zip(columns, raised):
            c.width = w
    spare = avail - sum(c.width for c in columns)
    wanting = [c for c in columns if not c.numeric and c.body > c.width + _EPS]
    need = sum(c.body - c.width for c in wanting)
    if spare > 0 and need > 0:
        for c in wanting:
            c.width += min(c.body - c.width, spare * (c.body - c.width) / need)
    whole = [max(c.width, c.header_full) for c in columns]
    if sum(whole) <= avail:
        for c, w in zip(columns, whole):
            c.width = w


class _PdfWriter:
    """Lays blocks out top to bottom on A4 pages, starting a new page when one is full."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.fig: Figure | None = None
        self.y = 0.0  # inches from the top of the page

    def _new_page(self) -> None:
        self.flush()
        self.fig = Figure(figsize=_PAGE)
        self.y = _MARGIN

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def _fits(self, height: float) -> bool:
        return self.fig is not None and self.y + height <= _PAGE[1] - _MARGIN

    def _room(self, height: float) -> None:
        if not self._fits(height):
            self._new_page()

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` inches fit below the cursor."""
        self._room(height)

    def _put(self, x: float, y: float, text: str, **style: Any) -> None:
        """Text at ``x`` inches from the left and ``y`` inches from the top (its baseline)."""
        self.fig.text(x / _PAGE[0], 1 - y / _PAGE[1], text, va="baseline", parse_math=False,
                      **style)  # fmt: skip

    def _rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        from matplotlib.patches import Rectangle

        box = (x / _PAGE[0], 1 - (y + h) / _PAGE[1])
        self.fig.add_artist(Rectangle(box, w / _PAGE[0], h / _PAGE[1], facecolor=color,
                                      edgecolor="none", transform=self.fig.transFigure,
                                      zorder=0))  # fmt: skip

    def _rule(self, x: float, y: float, w: float, weight: float) -> None:
        from matplotlib.lines import Line2D

        fy = 1 - y / _PAGE[1]
        self.fig.add_artist(Line2D([x / _PAGE[0], (x + w) / _PAGE[0]], [fy, fy], color=_RULE,
                                   linewidth=weight, transform=self.fig.transFigure,
                                   solid_capstyle="butt"))  # fmt: skip

    def text(self, lines: list[str], size: float = 8.5, family: str = "sans-serif",
             weight: str = "normal", gap: float = 0.08, shade: str | None = None,
             together: int = 5) -> None:  # fmt: skip
        """Lines of text; ``shade`` puts a box behind them (code), split where pages break.

        Up to ``together`` lines stay on one page, and a longer block starts only where two of
        its lines fit, so no page ends on a block's first line or opens with its last alone.
        """
        step = _LINE * size / 8.5
        pad = 0.06 if shade else 0.0
        if len(lines) <= together:
            self.keep(len(lines) * step + 2 * pad)
        else:
            self.keep(2 * step + pad)
        start: float | None = None
        for i, line in enumerate(lines):
            last_two = i == len(lines) - 2 and i >= 2  # break before them, not between
            if not self._fits(step + (pad if i == len(lines) - 1 else 0)) or (
                last_two and not self._fits(2 * step + pad)
            ):
                if shade and start is not None:
                    self._rect(_MARGIN, start, _WIDTH, self.y - start + pad, shade)
                self._new_page()
                start = None
            if shade and start is None:
                start = self.y
                self.y += pad
            self._put(_MARGIN + pad * 1.5, self.y + 0.78 * size / 72, line, fontsize=size,
                      family=family, weight=weight)  # fmt: skip
            self.y += step
        if shade and start is not None:
            self._rect(_MARGIN, start, _WIDTH, self.y - start + pad, shade)
            self.y += pad
        self.y += gap

    def paragraph(self, text: str, size: float = 8.5, weight: str = "normal",
                  gap: float = 0.08) -> None:  # fmt: skip
        """Running text wrapped to the measured width of the text block."""
        self.text(_wrap_measured(text, _WIDTH, size, weight == "bold"), size=size,
                  weight=weight, gap=gap)  # fmt: skip

    def image(self, png: bytes, width_in: float, height_in: float) -> None:
        import matplotlib.image as mpimg

        scale = min(1.0, _WIDTH / width_in, (_PAGE[1] - 2 * _MARGIN - 0.5) / height_in)
        w, h = width_in * scale, height_in * scale
        self._room(h)
        ax = self.fig.add_axes(
            (_MARGIN / _PAGE[0], 1 - (self.y + h) / _PAGE[1], w / _PAGE[0], h / _PAGE[1])
        )
        ax.imshow(mpimg.imread(io.BytesIO(png), format="png"))
        ax.set_axis_off()
        self.y += h + 0.05

    def table(self, block: Table) -> None:
        """A table set like a printed one.

        Columns are measured in the proportional body font; text wraps within its column
        (nothing is cut), numbers are right-aligned so their digits line up, the header sits
        between booktabs-style rules and every second row is shaded. A table wider than the
        page is split into column groups that each repeat the first column; a table taller
        than what is left of the page continues on the next one under a repeated header.
        """
        frame = block.frame
        numeric = _numeric_columns(frame, block.digits)
        columns = [
            _Column(str(name), [_cell_text(v, block.digits, "\u2013") for v in frame[name]], num)
            for name, num in zip(frame.columns, numeric)
        ]
        if not columns:
            return
        groups = _column_groups(columns, _WIDTH)
        for g, group in enumerate(groups):
            cols = [_Column(columns[i].header, columns[i].cells, columns[i].numeric)
                    for i in group]  # fmt: skip
            _set_widths(cols, _WIDTH)
            caption = block.caption
            if len(groups) > 1:
                caption += f" (columns {g + 1} of {len(groups)})" if caption else ""
            self._table_group(cols, caption)

    def _table_group(self, cols: list[_Column], caption: str) -> None:
        """One column group: caption, header and rows, continued on further pages as needed."""
        leading = _TABLE_SIZE * _TABLE_LEADING / 72
        head = [_wrap_measured(c.header, c.width - 2 * _PAD_X, _TABLE_SIZE, True) for c in cols]
        head_h = max(len(h) for h in head) * leading + 2 * _PAD_Y
        rows = [
            [_wrap_cell(c.cells[r], c.width - 2 * _PAD_X, c.numeric, c.stacked) for c in cols]
            for r in range(len(cols[0].cells))
        ]
        heights = [max(len(cell) for cell in row) * leading + 2 * _PAD_Y for row in rows]
        total = sum(c.width for c in cols)
        cap_lines = _wrap_measured(caption, _WIDTH, 8.5, True) if caption else []
        cap_h = len(cap_lines) * _LINE + 0.04

        def start(cont: bool) -> None:
            if cap_lines:
                lines = cap_lines
                if cont:
                    lines = _wrap_measured(caption + " (continued)", _WIDTH, 8.5, True)
                self.text(lines, weight="bold", gap=0.04)
            self._rule(_MARGIN, self.y, total, 0.9)
            self._cells(cols, head, self.y, head_h, bold=True)
            self.y += head_h
            self._rule(_MARGIN, self.y, total, 0.5)

        # A table up to half a page moves whole to the next page rather than split; a longer
        # one starts where its caption, header and first rows fit, and breaks so that no page
        # holds fewer than three of its rows.
        whole = cap_h + head_h + sum(heights) + 0.1
        if whole <= (_PAGE[1] - 2 * _MARGIN) / 2:
            self.keep(whole)
        else:
            self.keep(cap_h + head_h + sum(heights[:3]) + 0.1)
        start(cont=False)
        for r, (row, h) in enumerate(zip(rows, heights)):
            tail = sum(heights[r:]) + 0.02
            if not self._fits(h + 0.02) or (len(rows) - r == 3 and r >= 3 and not self._fits(tail)):
                self._rule(_MARGIN, self.y, total, 0.9)
                self._new_page()
                start(cont=True)
            if r % 2 == 1:
                self._rect(_MARGIN, self.y, total, h, _ZEBRA)
            self._cells(cols, row, self.y, h, bold=False)
            self.y += h
        self._rule(_MARGIN, self.y, total, 0.9)
        self.y += 0.2

    def _cells(self, cols: list[_Column], cells: list[list[str]], top: float, height: float,
               bold: bool) -> None:  # fmt: skip
        """One row: body text from the top of the row, a header's from its foot, so a wrapped
        header reads down to its rule."""
        leading = _TABLE_SIZE * _TABLE_LEADING / 72
        ascent = 0.76 * _TABLE_SIZE / 72
        x = _MARGIN
        for col, lines in zip(cols, cells):
            first = top + _PAD_Y + ascent
            if bold:
                first = top + height - _PAD_Y - (len(lines) - 1) * leading - 0.22 * _TABLE_SIZE / 72
            tx, ha = (x + col.width - _PAD_X, "right") if col.numeric else (x + _PAD_X, "left")
            for k, line in enumerate(lines):
                self._put(tx, first + k * leading, line, fontsize=_TABLE_SIZE, ha=ha,
                          weight="bold" if bold else "normal", color="#111111")  # fmt: skip
            x += col.width


def _wrap(text: str, width: int = 105) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def render_pdf(report: Report, path: str | os.PathLike) -> None:
    """Write the report as a PDF: the same sections, tables set as tables, figures as images."""
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path, metadata={"Title": report.title, "Creator": "coopsim"}) as pdf:
        w = _PdfWriter(pdf)
        w.paragraph(report.title, size=17, weight="bold")
        w.paragraph(report.subtitle, size=8.5, gap=0.2)
        for section in report.sections:
            w.keep(1.5)  # no heading alone at the foot of a page
            w.text([section.title], size=13, weight="bold", gap=0.1)
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    w.paragraph(block.text)
                elif isinstance(block, Preformatted):
                    lines = [ln for raw in block.text.splitlines() for ln in _wrap(raw, 108)]
                    if block.caption:  # the caption goes where the block's first lines go
                        kept = len(lines) if len(lines) <= _CODE_TOGETHER else 2
                        w.keep(_LINE + 0.16 + kept * _LINE * _CODE_SIZE / 8.5)
                        w.paragraph(block.caption, weight="bold", gap=0.04)
                    w.text(lines, size=_CODE_SIZE, family="monospace", shade="#f4f6f8", gap=0.15,
                           together=_CODE_TOGETHER)  # fmt: skip
                elif isinstance(block, Table):
                    w.table(block)
                elif isinstance(block, FigureBlock):
                    width, height = block.figure.get_size_inches()
                    w.image(figure_png(block.figure, dpi=150), width, height)
                    w.paragraph(block.caption, size=8, gap=0.2)
        w.flush()


# ----------------------------------------------------------------------------- entry point


def build_report(
    runs: Iterable[RunData | str | os.PathLike],
    out: str | os.PathLike,
    *,
    n_boot: int = 2000,
) -> Path:
    """Write the report for ``runs`` to ``out`` and return the file's path.

    ``out`` ending in ``.html`` or ``.pdf`` picks the format; any other ``out`` is taken as a
    folder, in which ``report-<time>.html`` is written. The file is written atomically.
    """
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        if out.suffix:
            raise ValueError(f"{out}: a report is written as .html or .pdf, not {out.suffix}")
        out = out / f"report-{datetime.now().strftime('%Y%m%d-%H%M%S')}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = build_content(runs, n_boot=n_boot)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if out.suffix.lower() == ".pdf":
            render_pdf(report, tmp)
        else:
            tmp.write_text(render_html(report), encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
