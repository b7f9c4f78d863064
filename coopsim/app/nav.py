"""Links between the app's pages, without importing the pages (which link back here).

Streamlit identifies a page by its url path, so a link needs only that path, not the page's
function: :func:`link` names the page by the url path it has in :mod:`coopsim.app.menu`.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException


def _target() -> None:
    """Stands in for the linked page's function; Streamlit runs the real page it registered."""


def link(name: str, label: str, icon: str | None = None) -> None:
    """A link to another page; plain text when the page is shown outside the app's menu."""
    try:
        st.page_link(st.Page(_target, title=label, url_path=name), label=label, icon=icon)
    except StreamlitAPIException:
        st.markdown(f"{label}: open the **{name.capitalize()}** page.")
