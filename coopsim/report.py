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
import html
import io
import os
import platform
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

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


# ----------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
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


def _html_table(block: Table) -> str:
    frame = block.frame

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.{block.digits}f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cap = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
_LINE = 0.17  # inches per line of 8.5 pt text


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

    def _room(self, height: float) -> None:
        if self.fig is None or self.y + height > _PAGE[1] - _MARGIN:
            self._new_page()

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` inches fit below the cursor."""
        self._room(height)

    def text(self, lines: list[str], size: float = 8.5, family: str = "sans-serif",
             weight: str = "normal", gap: float = 0.08) -> None:  # fmt: skip
        step = _LINE * size / 8.5
        for line in lines:
            self._room(step)
            self.fig.text(_MARGIN / _PAGE[0], 1 - self.y / _PAGE[1], line, fontsize=size,
                          family=family, weight=weight, va="top")  # fmt: skip
            self.y += step
        self.y += gap

    def image(self, png: bytes, width_in: float, height_in: float) -> None:
        import matplotlib.image as mpimg

        avail = _PAGE[0] - 2 * _MARGIN
        scale = min(1.0, avail / width_in, (_PAGE[1] - 2 * _MARGIN - 0.5) / height_in)
        w, h = width_in * scale, height_in * scale
        self._room(h)
        ax = self.fig.add_axes(
            (_MARGIN / _PAGE[0], 1 - (self.y + h) / _PAGE[1], w / _PAGE[0], h / _PAGE[1])
        )
        ax.imshow(mpimg.imread(io.BytesIO(png), format="png"))
        ax.set_axis_off()
        self.y += h + 0.05


def _wrap(text: str, width: int = 105) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _table_lines(block: Table, width: int = 128) -> list[str]:
    """A table as monospace lines; columns that do not fit ``width`` go to further blocks.

    The first column (the row's name) is repeated in every block, so a wide table reads as
    several narrower ones instead of running off the page.
    """
    frame = block.frame.copy()
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: "" if pd.isna(v) else f"{v:.{block.digits}f}")
    frame = frame.astype(str).map(lambda s: s if len(s) <= 100 else s[:97] + "...")
    if frame.shape[1] < 2:
        return frame.to_string(index=False).splitlines()
    widths = {c: max(len(str(c)), int(frame[c].str.len().max() or 0)) + 2 for c in frame.columns}
    first, rest = frame.columns[0], list(frame.columns[1:])
    chunks: list[list[str]] = []
    used = widths[first]
    for col in rest:
        if not chunks or used + widths[col] > width:
            chunks.append([])
            used = widths[first]
        chunks[-1].append(col)
        used += widths[col]
    lines: list[str] = []
    for i, chunk in enumerate(chunks):
        if i:
            lines.append("")
        lines += frame[[first, *chunk]].to_string(index=False).splitlines()
    return lines


def render_pdf(report: Report, path: str | os.PathLike) -> None:
    """Write the report as a PDF: the same sections, tables as text, figures as images."""
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path, metadata={"Title": report.title, "Creator": "coopsim"}) as pdf:
        w = _PdfWriter(pdf)
        w.text(_wrap(report.title, 60), size=17, weight="bold")
        w.text(_wrap(report.subtitle, 110), size=8.5, gap=0.2)
        for section in report.sections:
            w.keep(1.5)  # no heading alone at the foot of a page
            w.text([section.title], size=13, weight="bold", gap=0.1)
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    w.text(_wrap(block.text))
                elif isinstance(block, Preformatted):
                    if block.caption:
                        w.text([block.caption], weight="bold")
                    lines = [ln for raw in block.text.splitlines() for ln in _wrap(raw, 110)]
                    w.text(lines, size=7, family="monospace")
                elif isinstance(block, Table):
                    if block.caption:
                        w.text(_wrap(block.caption), weight="bold", gap=0.02)
                    w.text(_table_lines(block), size=6.5, family="monospace", gap=0.15)
                elif isinstance(block, FigureBlock):
                    width, height = block.figure.get_size_inches()
                    w.image(figure_png(block.figure, dpi=150), width, height)
                    w.text(_wrap(block.caption), size=8, gap=0.2)
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
