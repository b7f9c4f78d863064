"""Which browser session a page belongs to, kept in the URL so a reopened tab is the same one.

Streamlit forgets a session when its tab closes. The app gives each new session a random token
in the ``s`` query parameter of the URL; a tab reopened on that URL (or a bookmark of it) keeps
its token, so the Run page finds the jobs it started and the Design page the design it was
editing, saved under ``<runs>/.sessions/<token>/``. The token only groups what one person sees
by default: anyone may list all jobs, but only a job's own session gets its buttons.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import streamlit as st

from coopsim.app import runs_dir
from coopsim.paths import inside
from coopsim.record import atomic_write_text

PARAM = "s"
SESSIONS = ".sessions"
DESIGN_FILE = "design.json"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_KEY = "browser_session"


def valid_token(token: object) -> bool:
    """A token this module could have made (anything else in the URL is replaced)."""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def current() -> str:
    """This browser session's token, from the URL, or a new one written into the URL."""
    ss = st.session_state
    token = ss.get(_KEY)
    if token is None:
        given = st.query_params.get(PARAM)
        token = given if valid_token(given) else secrets.token_urlsafe(16)
        ss[_KEY] = token
    if st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token  # page switches may drop it; put it back every run
    return token


def _design_path(token: str) -> Path:
    return inside(runs_dir() / SESSIONS, token, DESIGN_FILE)


def save_design(token: str, design: dict[str, Any], origin: str) -> None:
    """Keep the design being edited, so a reopened tab starts from it."""
    record = {"origin": origin, "design": design}
    if st.session_state.get("_saved_design") == record:
        return
    atomic_write_text(_design_path(token), json.dumps(record, indent=1) + "\n")
    st.session_state["_saved_design"] = record


def load_design(token: str) -> tuple[dict[str, Any], str] | None:
    """The design this session was editing when its tab closed (and where it came from)."""
    path = _design_path(token)
    try:
        record = json.loads(path.read_text())
        design, origin = record["design"], record["origin"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(design, dict) or not isinstance(origin, str):
        return None
    st.session_state["_saved_design"] = record
    return design, origin
