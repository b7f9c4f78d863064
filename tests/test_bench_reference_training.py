"""The fidelity adapter of ``bench/reference_training.py``: its measures by hand, and (where the
AI Economist's checkout is present) its faithful mapping of the reference's observations and
actions into coopsim's layout."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
REFERENCE_CHECKOUT = Path(os.environ.get("AI_ECONOMIST", "/tmp/aie"))


@pytest.fixture(scope="module")
def adapter():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(
        "reference_training", BENCH / "reference_training.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_equality_is_the_references_normalised_gini(adapter):
    # everything with one of four agents: Gini 3/4, normalised by 4/3 to 1 -> equality 0
    assert adapter.gini_equality(np.array([0.0, 0.0, 0.0, 8.0])) == pytest.approx(0.0)
    assert adapter.gini_equality(np.array([5.0, 5.0, 5.0, 5.0])) == pytest.approx(1.0)
    # coins 1, 2, 3, 4: sum |xi - xj| over ordered pairs = 20, Gini = 20 / (2 x 4 x 10) = 0.25,
    # normalised 0.25 x 4/3 = 1/3 -> equality 2/3
    assert adapter.gini_equality(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(2 / 3)
    row = adapter.metric_row(
        np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4) * 7, np.array([0, 1, 2, 5.0])
    )
    assert row["productivity"] == 10.0 and row["eq_x_prod"] == pytest.approx(20 / 3)
    assert (row["houses_per_agent"], row["labour_per_agent"]) == (2.0, 7.0)


def test_the_reference_configuration_per_regime(adapter):
    free = dict(adapter.reference_config("free_market", anneal=False)["components"])
    assert free["PeriodicBracketTax"]["disable_taxes"] is True
    saez = dict(adapter.reference_config("saez", anneal=True)["components"])
    assert saez["PeriodicBracketTax"]["tax_model"] == "saez"
    assert saez["PeriodicBracketTax"]["tax_annealing_schedule"] == [-100, 0.001]
    plain = dict(adapter.reference_config("saez", anneal=False)["components"])
    assert "tax_annealing_schedule" not in plain["PeriodicBracketTax"]


@pytest.mark.skipif(not REFERENCE_CHECKOUT.is_dir(), reason="needs the AI Economist's checkout")
def test_the_adapter_passes_the_references_own_observation_and_mask(adapter):
    sys.path.insert(0, str(REFERENCE_CHECKOUT))
    batch = adapter.ReferenceBatch("free_market", 2, seed=0)
    obs, mask = batch.reset()
    assert obs.shape == (2, 4, batch.spec.obs_dim) and mask.shape == (2, 4, 50)
    raw = batch.last[1]["2"]  # world 1, agent 2, as the reference gives it
    m = batch.spec.obs_fields["map"]
    assert obs[1, 2, m].numpy() == pytest.approx(
        np.concatenate([raw["world-map"].ravel(), raw["world-idx_map"].ravel()])
    )
    assert obs[1, 2, batch.spec.obs_fields["flat"]].numpy() == pytest.approx(raw["flat"])
    assert mask[1, 2].numpy().tolist() == (np.asarray(raw["action_mask"]) > 0).tolist()
    # a step with every agent's no-op (action 0) moves all 2 worlds one step
    import torch

    obs, mask, reward, done = batch.step(torch.zeros(2, 4, 1, dtype=torch.long))
    assert reward.shape == (2, 4) and not done
    assert all(env.world.timestep == 1 for env in batch.envs)
