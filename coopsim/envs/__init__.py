"""Batched worlds. Each registers its config class and world class under its ``kind``."""

from coopsim.envs.base import Step, World, WorldSpec
from coopsim.envs.commons import CommonsConfig, CommonsWorld
from coopsim.envs.economy import EconomyConfig, EconomyWorld
from coopsim.envs.matrix_games import MatrixGameConfig, MatrixGameWorld
from coopsim.envs.one_step_economy import OneStepEconomyConfig, OneStepEconomyWorld
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld

WORLDS: dict[str, tuple[type, type[World]]] = {
    "public_goods": (PublicGoodsConfig, PublicGoodsWorld),
    "matrix_game": (MatrixGameConfig, MatrixGameWorld),
    "economy": (EconomyConfig, EconomyWorld),
    "one_step_economy": (OneStepEconomyConfig, OneStepEconomyWorld),
    "commons": (CommonsConfig, CommonsWorld),
}

__all__ = ["WORLDS", "Step", "World", "WorldSpec"]
