"""Entry script of the Streamlit app: ``streamlit run coopsim/app/main.py`` or ``coopsim app``."""

from __future__ import annotations

import streamlit as st

from coopsim.app import menu, shown, state

st.set_page_config(
    page_title="coopsim mechanism designer", page_icon=":material/handshake:", layout="wide"
)
state.init()
page = st.navigation(menu.pages())
with st.sidebar:
    st.markdown("### coopsim")
    st.caption(
        "Design mechanisms (taxes, redistribution, matching funds, sanctions), run them on "
        "batched public-goods and matrix-game worlds, and compare welfare, equality and "
        "cooperation."
    )
    st.caption(f"Run directories (`<runs>` in messages): `{shown.runs_folder()}`")
page.run()
