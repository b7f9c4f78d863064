"""The AI Economist's gather-trade-build economy, batched on tensors; rules in :mod:`.world`.

One module per part: the world's state record (:mod:`.state`), its settings (:mod:`.config`),
map layouts (:mod:`.maps`, with the shipped maps in ``layouts/``), the AI Economist's fixed
skills and gather bonus (:mod:`.skills`), the rules as components (:mod:`.movement`,
:mod:`.gathering`, :mod:`.building`, :mod:`.market`, :mod:`.money`), what agents see
(:mod:`.observation`), and the world composing them (:mod:`.world`). ``REFERENCE.md`` sets
each mechanic beside the reference implementation's.
"""

from coopsim.envs.economy.actions import ACTS
from coopsim.envs.economy.config import EconomyConfig
from coopsim.envs.economy.observation import MAP_CHANNELS
from coopsim.envs.economy.state import RESOURCES, STONE, WOOD, EconomyState
from coopsim.envs.economy.world import EconomyWorld

__all__ = [
    "ACTS",
    "MAP_CHANNELS",
    "RESOURCES",
    "STONE",
    "WOOD",
    "EconomyConfig",
    "EconomyState",
    "EconomyWorld",
]
