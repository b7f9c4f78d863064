"""The schema of :attr:`coopsim.envs.base.Step.info`: what a world reports at a round's end.

Every value is a tensor [B, N] (one number per world and agent). The trainer, the evaluator
and ``episodes.parquet`` read these keys by name, so they are declared here rather than
discovered: :data:`INFO_KEYS` says what each key means, :data:`REQUIRED` which every world
reports; each world declares the keys it reports (``World.info_keys``, and the meanings of any
new ones in ``World.info_meanings``), and the conformance kit steps every world and holds it to
its list. Besides these, each mechanism of the pipeline adds
``transfer_<label>`` (:data:`TRANSFER_PREFIX`): what it paid (+) or took (-) from each agent.
"""

from __future__ import annotations

from torch import Tensor

TRANSFER_PREFIX = "transfer_"

INFO_KEYS: dict[str, str] = {
    # every world
    "gross": "payoff before any mechanism (production and trade)",
    "net": "payoff after every mechanism: what the agent keeps this round",
    # where the world has them
    "income": "taxable income earned this round (where it differs from gross: trade's "
    "purchases are not negative income)",
    "utility": "utility level so far in the episode, labour counted (the welfare functions "
    "and the planner's objective read it)",
    "contribution": "amount given to the public good this round (a matrix game: 1 = cooperate)",
    "punishment_given": "punishment points the agent assigned to others this round",
    "punishment_received": "punishment points others assigned to the agent this round",
    "labour": "labour spent: hours this round (one-step economy), so far in the episode (economy)",
    # the gather-trade-build economy
    "coin": "coin held, escrowed bids included",
    "wood": "wood held, escrowed asks included",
    "stone": "stone held, escrowed asks included",
    "moved": "1 if the agent moved this step",
    "gathers": "1 if a gather act succeeded this step",
    "gathered": "units gathered this step (a skilled gatherer may get 2)",
    "built": "1 if the agent built a house this step",
    "orders": "market orders accepted this step",
    "bought": "units bought this step",
    "sold": "units sold this step",
    "build_income": "coin from houses built this step",
    "sale_income": "coin from resources sold this step",
    "build_skill": "the agent's coin per house",
    # the commons
    "harvest": "units of the common resource (apples) taken this step",
    "tagged": "1 if the agent was tagged out of the game this step (could not act)",
    "fired": "1 if the agent fired its tagging beam this step",
    "hits": "agents this agent's beam tagged out this step",
    "stock": "units of the resource standing after this step (the same for every agent)",
}

REQUIRED: tuple[str, ...] = ("gross", "net")


def taxable_income(info: dict[str, Tensor]) -> Tensor:
    """[B, N] this round's taxable income: ``income`` where the world reports it, else
    ``gross`` (in the games every payoff is income)."""
    return info["income"] if "income" in info else info["gross"]
