"""A report's Episode replay section: a strip of frames for every run that recorded a replay.

Spatial worlds (the commons, the economy) keep one evaluation episode of world 0 as
``replay.npz`` (:mod:`coopsim.replay`); a strip of its frames shows a designer what the agents
did on the map: where they went, what was left of the resource, who was tagged out. Runs
without a replay (worlds without a map, runs written before replays were recorded) add
nothing, and a report without any has no such section.
"""

from __future__ import annotations

from collections.abc import Sequence

from coopsim.figures.replay import STRIP_FRAMES, replay_strip
from coopsim.record import RunData
from coopsim.replay import REPLAY, load_replay
from coopsim.report.model import FigureBlock, Paragraph, Section


def replay_sections(runs: Sequence[RunData], labels: Sequence[str]) -> list[Section]:
    """The section, or none when no run has a replay."""
    blocks: list = []
    for run, label in zip(runs, labels):
        path = run.path / REPLAY
        if not path.is_file():
            continue
        replay = load_replay(path)
        blocks.append(
            FigureBlock(
                f"fig-replay-{run.name}",
                replay_strip(replay),
                f"{label}: {min(STRIP_FRAMES, replay.num_frames)} moments of the first "
                f"evaluation episode, steps {int(replay.steps[0])} to {int(replay.steps[-1])}.",
            )
        )
    if not blocks:
        return []
    intro = Paragraph(
        "What the agents did on the map in one evaluation episode. Coloured squares are agents "
        "(a dark bar on the side an agent faces, where agents have a heading; a grey outline "
        "while it is tagged out); green tiles are apples or wood, grey stone or walls, blue "
        "water, brown houses."
    )
    return [Section("replay", "Episode replay", [intro, *blocks])]
