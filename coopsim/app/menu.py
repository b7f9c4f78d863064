"""The app's pages in menu order, for the entry script's ``st.navigation``.

Every page has its own URL (``/design``, ``/run``, ``/compare``, ``/report``, ``/play``). Streamlit serves
its default page at the root only, so the default is a hidden page that sends the visitor on
to Design; a Design page marked default would answer ``/design`` with "Page not found".
"""

from __future__ import annotations

import streamlit as st

from coopsim.app.views import compare, design, play, report, run, sweep


def pages() -> list[st.Page]:
    design_page = st.Page(design.render, title="Design", icon=":material/edit:", url_path="design")

    def home() -> None:
        st.switch_page(design_page)

    return [
        st.Page(home, title="coopsim", url_path="home", default=True, visibility="hidden"),
        design_page,
        st.Page(run.render, title="Run", icon=":material/play_arrow:", url_path="run"),
        st.Page(sweep.render, title="Sweep", icon=":material/grid_on:", url_path="sweep"),
        st.Page(compare.render, title="Compare", icon=":material/bar_chart:", url_path="compare"),
        st.Page(report.render, title="Report", icon=":material/description:", url_path="report"),
        st.Page(play.render, title="Play", icon=":material/groups:", url_path="play"),
    ]
