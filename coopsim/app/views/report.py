"""Report page: the policy brief on the runs chosen on Compare, previewed, as HTML and PDF.

The report is built in memory and offered as downloads; nothing is written under the runs
folder, whose every entry is a run directory for ``coopsim compare runs/*``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from coopsim.app import nav, runs_dir, shown, state
from coopsim.app.views.compare import (
    available_runs,
    default_runs,
    run_key,
    stress_folder_of,
    sweep_cells,
)
from coopsim.report import build_content, render_html, render_pdf

BUILT = "report_built"  # {"runs": [...], "html": str, "pdf": bytes | None, "pdf_error": str}
#: Height of the inline preview, pixels (the preview scrolls).
PREVIEW_HEIGHT = 900


def _build(paths: list[Path]) -> dict:
    """The report as HTML text and PDF bytes (or why there is no PDF)."""
    folder = stress_folder_of(paths)  # the stress test Compare shows for these runs, if any
    report = build_content(paths, stress=[] if folder is None else [folder])
    built: dict = {"runs": [p.name for p in paths], "html": render_html(report), "pdf": None}
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        try:
            render_pdf(report, pdf)
            built["pdf"] = pdf.read_bytes()
        except (RuntimeError, OSError) as err:
            built["pdf_error"] = shown.text(str(err))
    return built


def render() -> None:
    st.title("Scenario report")
    st.caption(
        "A policy brief on the runs chosen on the Compare page: the question, the findings "
        "with their intervals, figures, the comparison table, the method and the scenarios."
    )
    paths = available_runs()
    if not paths:
        st.info(f"No run directories in {shown.path(runs_dir())} yet: start one on the Run page.")
        return
    names = [run_key(p) for p in paths]
    chosen = state.selected_runs(names)
    if chosen:
        st.markdown("**Runs** (chosen on Compare): " + ", ".join(f"`{n}`" for n in chosen))
    else:  # opened directly: the rules Compare opens on, the latest demo's
        chosen = [run_key(p) for p in default_runs(paths, sweep_cells())]
        which = "the run" if len(chosen) == 1 else f"the {len(chosen)} runs"
        st.markdown(
            f"**Runs**: {which} Compare opens on, the latest demo's or sweep's (choose others there)."
        )
        with st.expander("Which runs"):
            st.markdown(", ".join(f"`{n}`" for n in chosen))
    nav.link("compare", "Change the runs on Compare", icon=":material/bar_chart:")
    built = st.session_state.get(BUILT)
    if built is not None and built["runs"] != chosen:
        built = None  # made for another choice of runs
    if built is None and st.button("Build report", type="primary"):
        by_name = dict(zip(names, paths))
        with st.spinner("Building the report (figures, then the PDF)…"):
            built = _build([by_name[n] for n in chosen])
        st.session_state[BUILT] = built
    if built is None:
        return
    stem = f"report-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    cols = st.columns(2)
    cols[0].download_button(
        "Download HTML", built["html"], file_name=f"{stem}.html", mime="text/html"
    )
    if built["pdf"] is not None:
        cols[1].download_button(
            "Download PDF", built["pdf"], file_name=f"{stem}.pdf", mime="application/pdf"
        )
    else:
        cols[1].warning(f"No PDF: {built.get('pdf_error', 'it could not be typeset')}")
    st.subheader("Preview")
    components.html(built["html"], height=PREVIEW_HEIGHT, scrolling=True)
