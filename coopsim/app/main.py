"""Entry script of the Streamlit app: ``streamlit run coopsim/app/main.py`` or ``coopsim app``."""

from __future__ import annotations

import streamlit as st

from coopsim.app import menu, shown, state
from coopsim.docs_links import app_url

st.set_page_config(
    page_title="coopsim mechanism designer", page_icon=":material/handshake:", layout="wide"
)
state.init()
page = st.navigation(menu.pages())
with st.sidebar:
    st.markdown("### coopsim")
    st.caption(
        "Design mechanisms (taxes, redistribution, matching funds, sanctions, quotas), run "
        "them on batched worlds (public goods, matrix games, the AI Economist's economy, the "
        "commons), and compare welfare, equality and cooperation."
    )
    st.caption(f"Run directories (`<runs>` in messages): `{shown.runs_folder()}`")
    st.caption(
        f"How this page works: [the docs]({app_url(page.url_path)}) (`make docs` serves them)"
    )
page.run()
