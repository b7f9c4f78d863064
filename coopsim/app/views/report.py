"""Report page: build the scenario report for chosen runs and download it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from coopsim.app import runs_dir
from coopsim.app.views.compare import available_runs
from coopsim.report import build_report


def render() -> None:
    st.title("Scenario report")
    paths = available_runs()
    if not paths:
        st.info(f"No run directories in {runs_dir()} yet: start one on the Run page.")
        return
    names = [p.name for p in paths]
    chosen = st.multiselect(
        "Runs",
        names,
        default=names[: min(4, len(names))],
        help="The runs the report describes and compares.",
    )
    if chosen and st.button("Build report", type="primary"):
        by_name = dict(zip(names, paths))
        out = runs_dir() / "reports"
        with st.spinner("Building the report…"):
            path = build_report([by_name[n] for n in chosen], out)
        st.success(f"Report written to {path}")
        st.download_button("Download report", Path(path).read_bytes(), file_name=Path(path).name)
