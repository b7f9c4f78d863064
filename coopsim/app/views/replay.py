"""Episode replay in the app: one evaluation episode of a spatial world, frame by frame.

Runs of worlds with a map (the commons, the economy) keep world 0 of their first evaluation
episode as ``replay.npz`` (:mod:`coopsim.replay`). The Compare page hands its chosen runs here;
those with a replay get a run picker and a frame slider, the frame drawn by the same renderer
reports use (:mod:`coopsim.figures.replay`). Runs without one add nothing to the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from coopsim.figures.replay import frame
from coopsim.record import RunData
from coopsim.replay import REPLAY, Replay, load_replay

PIXELS_PER_TILE = 16  # tiles drawn this big, so a 25 x 25 map is 400 pixels across


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float) -> Replay:
    """A run's replay, shared by every session until the file changes (``mtime`` is only part
    of the cache key)."""
    return load_replay(path)


def replay_of(run: RunData) -> Replay | None:
    path = Path(run.path) / REPLAY
    if not path.is_file():
        return None
    return _load(str(path), path.stat().st_mtime)


def render_section(runs: Sequence[RunData]) -> None:
    """The Episode replay section for ``runs``: nothing when none of them has a replay."""
    found = {run.name: (run, replay) for run in runs if (replay := replay_of(run)) is not None}
    if not found:
        return
    st.subheader("Episode replay")
    st.caption(
        "One evaluation episode of world 0. Squares are agents (a dark bar on the side an agent "
        "faces; a grey outline while it is tagged out); green: apples or wood, grey: stone or "
        "walls, blue: water, brown: houses."
    )
    name = st.selectbox("Replay of run", list(found), key="replay_run")
    run, replay = found[name]
    last = replay.num_frames - 1
    index = st.slider(
        "Frame",
        min_value=0,
        max_value=max(last, 1),
        value=0,
        key=f"replay_frame_{name}",
        help=f"{replay.num_frames} frames, steps {int(replay.steps[0])} to {int(replay.steps[-1])}",
        disabled=last == 0,
    )
    index = min(index, last)
    st.image(
        frame(replay, index, tile=PIXELS_PER_TILE),
        caption=f"{run.label}, step {int(replay.steps[index])} of {int(replay.steps[-1])}",
    )
