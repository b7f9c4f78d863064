"""Run a scenario end to end and publish its run directory."""

from __future__ import annotations

import os
from pathlib import Path

from coopsim.evaluate import evaluate
from coopsim.record import RunWriter, new_run_name, run_metadata
from coopsim.scenario import Scenario


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    out: str | os.PathLike = "runs",
    episodes: int | None = None,
    device: str | None = None,
) -> Path:
    """Evaluate ``scenario`` and write ``out/<scenario>-<time>-s<seed>/``; returns its path.

    Everything is computed before the directory is staged, and the directory appears under
    its final name only once complete.
    """
    seed = scenario.evaluation.seed if seed is None else seed
    result = evaluate(scenario, seed=seed, episodes=episodes, device=device)
    summary = run_metadata(scenario, seed, episodes=len(result.episode_metrics))
    summary["metrics"] = result.summary
    with RunWriter(out, new_run_name(scenario.name, seed)) as writer:
        writer.write_text("scenario.toml", scenario.to_toml())
        writer.write_frame("episodes.parquet", result.episodes)
        writer.write_frame("episode_metrics.parquet", result.episode_metrics)
        writer.write_json("summary.json", summary)
    return writer.final
