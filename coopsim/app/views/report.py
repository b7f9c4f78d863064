"""Report page: build the scenario report for chosen runs and download it."""

from __future__ import annotations

import importlib
from pathlib import Path

import streamlit as st

from coopsim.app import runs_dir
from coopsim.app.views.compare import available_runs


def _builder():
    """The report builder from :mod:`coopsim.report`, or None where it is not available."""
    try:
        module = importlib.import_module("coopsim.report")
    except ImportError:
        return None
    return getattr(module, "build_report", None)


def render() -> None:
    st.title("Scenario report")
    build = _builder()
    if build is None:
        st.info(
            "Reports are built by coopsim.report, which this installation does not have yet. "
            "Meanwhile the Compare page shows the same tables and figures."
        )
        return
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
            path = build([by_name[n] for n in chosen], out)
        st.success(f"Report written to {path}")
        st.download_button("Download report", Path(path).read_bytes(), file_name=Path(path).name)
