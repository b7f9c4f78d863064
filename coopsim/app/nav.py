"""The app's pages as Streamlit ``Page`` objects, shared by the entry script and page links."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException


def pages() -> dict[str, st.Page]:
    """url path -> page, in menu order."""
    from coopsim.app.views import compare, design, report, run

    return {
        "design": st.Page(
            design.render, title="Design", icon=":material/edit:", url_path="design", default=True
        ),
        "run": st.Page(run.render, title="Run", icon=":material/play_arrow:", url_path="run"),
        "compare": st.Page(
            compare.render, title="Compare", icon=":material/bar_chart:", url_path="compare"
        ),
        "report": st.Page(
            report.render, title="Report", icon=":material/description:", url_path="report"
        ),
    }


def link(name: str, label: str, icon: str | None = None) -> None:
    """A link to another page; plain text when the page is shown outside the app's menu."""
    try:
        st.page_link(pages()[name], label=label, icon=icon)
    except (StreamlitAPIException, KeyError):
        st.markdown(f"{label}: open the **{name.capitalize()}** page.")
