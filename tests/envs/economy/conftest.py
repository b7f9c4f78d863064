"""Tiny economies for the component tests: a text map, fixed skills and start tiles."""

from __future__ import annotations

import pytest

from coopsim.envs.economy import EconomyConfig, EconomyWorld


@pytest.fixture
def tiny():
    """``tiny(text, starts, n=2, batch=1, pipeline=None, **config)`` -> EconomyWorld."""

    def make(text: str, starts: list[int], n: int = 2, batch: int = 1, pipeline=None, **kw):
        cfg = EconomyConfig(
            num_agents=n,
            layout="text",
            map_text=text,
            start_positions=starts,
            build_skills=kw.pop("build_skills", [1.0] * n),
            gather_skills=kw.pop("gather_skills", [0.0] * n),
            view_radius=kw.pop("view_radius", 1),
            **kw,
        )
        cfg.validate()
        return EconomyWorld(cfg, pipeline, batch_size=batch)

    return make
