"""How much one run started from the app may record, so a valid design cannot exhaust memory.

A run keeps one ``episodes.parquet`` row per evaluation episode x step x agent, and the worker
holds them all in memory while it writes them: 64 agents x 10,000 rounds x 32 episodes (20
million rows, every field at its largest allowed value) took the worker to 5.4 GB. The app
refuses designs past :data:`MAX_RECORDED_ROWS` before they are queued, with a message that
says how many episodes would fit. Pages read at most a bounded number of those rows again
(see :mod:`coopsim.app.views.compare`).
"""

from __future__ import annotations

from coopsim import builder
from coopsim import scenario as sc

#: Most episodes x steps x agents one run started from the app may record (about 500 MB in
#: the worker at its peak).
MAX_RECORDED_ROWS = 2_000_000


def rows_per_episode(scenario: sc.Scenario) -> int:
    """Rows one evaluation episode records at most: steps per episode x agents."""
    world = builder.make_world(scenario, batch_size=1)
    return int(world.spec.horizon) * int(scenario.num_agents)


def record_size_error(scenario: sc.Scenario, episodes: int) -> str | None:
    """Why ``episodes`` evaluation episodes of ``scenario`` would record too much, or None."""
    per_episode = rows_per_episode(scenario)
    rows = episodes * per_episode
    if rows <= MAX_RECORDED_ROWS:
        return None
    fits = max(MAX_RECORDED_ROWS // per_episode, 0)
    advice = (
        f"at most {fits} episodes fit"
        if fits
        else "not even one episode fits: use fewer rounds or agents"
    )
    return (
        f"evaluation.episodes: {episodes} episodes x {per_episode:,} steps x agents = {rows:,} "
        f"recorded rows, more than the {MAX_RECORDED_ROWS:,} a run started from the app may "
        f"keep; {advice}"
    )
