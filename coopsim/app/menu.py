"""The app's pages in menu order, for the entry script's ``st.navigation``."""

from __future__ import annotations

import streamlit as st

from coopsim.app.views import compare, design, report, run, sweep


def pages() -> list[st.Page]:
    return [
        st.Page(
            design.render, title="Design", icon=":material/edit:", url_path="design", default=True
        ),
        st.Page(run.render, title="Run", icon=":material/play_arrow:", url_path="run"),
        st.Page(sweep.render, title="Sweep", icon=":material/grid_on:", url_path="sweep"),
        st.Page(compare.render, title="Compare", icon=":material/bar_chart:", url_path="compare"),
        st.Page(report.render, title="Report", icon=":material/description:", url_path="report"),
    ]
