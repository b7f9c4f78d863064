"""The demo's five rules at two training seeds and one training iteration each: demo-like runs
in about half a minute, for tests of what tables and briefs say about rules."""

from __future__ import annotations

from pathlib import Path


def tiny_demo(out: Path, seeds: tuple[int, ...] = (0, 1)) -> dict[str, dict[int, Path]]:
    """{arm: {seed: run directory}} of the demo's arms trained for one iteration."""
    from coopsim.experiments import demo

    arms = {label: demo.Arm(a.scenario, 1, a.planner) for label, a in demo.ARMS.items()}
    return demo.run(out=out, seeds=seeds, workers=1, arms=arms)
