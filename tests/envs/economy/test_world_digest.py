"""The economy's whole trajectory, digested: every observation, reward, info field and action
mask over 300 steps of random play, for four scenarios at B = 1, 7 and 64.

A faster step must not change a single bit of what learners see. The native kernels
(:mod:`coopsim.envs.economy.native`) and the torch path they stand in for are run side by
side here and their digests compared; where no C compiler is found only the torch path runs.
"""

from __future__ import annotations

import hashlib

import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.envs.economy import native

SCENARIOS = (
    "economy_us_federal",
    "economy_free_market",
    "economy_paper_us_federal",
    "economy_paper_saez",
)


def digest(scenario: str, batch: int, steps: int = 300, seed: int = 0) -> str:
    """SHA-256 of a random-play trajectory of ``scenario`` at batch ``batch``: observations,
    rewards, every info field (sorted by name) and the action mask after every step. Half the
    actions are drawn from the mask (so orders, gathers and builds take effect) and half
    uniformly (so refused ones are exercised too)."""
    world = builder.make_world(sc.load(scenario), batch, "cpu")
    world.reset(seed=seed)
    nvec = world.spec.action_nvec
    gen = torch.Generator().manual_seed(seed)
    h = hashlib.sha256()
    mask = world.action_mask()
    for t in range(steps):
        heads = mask.split(list(nvec), -1)
        score = [torch.rand(m.shape, generator=gen).masked_fill(~m, -1.0) for m in heads]
        masked = torch.stack([s.argmax(-1) for s in score], -1)  # [B, N, H]
        uniform = (torch.rand(masked.shape, generator=gen) * torch.tensor(nvec)).long()
        step = world.step(masked if t % 2 else uniform)
        mask = world.action_mask()
        for x in (step.obs, step.reward, mask, *(step.info[k] for k in sorted(step.info))):
            h.update(x.contiguous().numpy().tobytes())
        if bool(step.done.all()):
            world.reset(seed=seed + t)
    return h.hexdigest()


@pytest.fixture
def torch_path():
    """Run the test body's worlds on the torch path, then put the kernels back as they were."""
    was = native.enabled()
    native.set_enabled(False)
    yield
    native.set_enabled(was)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_native_kernels_change_no_bit_of_a_trajectory(scenario):
    if native.library() is None:
        pytest.skip(f"economy kernels not built here: {native.note()}")
    native.set_enabled(True)
    fast = {b: digest(scenario, b) for b in (1, 7, 64)}
    native.set_enabled(False)
    try:
        plain = {b: digest(scenario, b) for b in (1, 7, 64)}
    finally:
        native.set_enabled(True)
    assert fast == plain


def test_digest_tells_trajectories_apart(torch_path):
    """The digest is not blind: another seed, or a step fewer, gives another digest."""
    base = digest("economy_us_federal", 2, steps=20)
    assert base == digest("economy_us_federal", 2, steps=20)
    assert base != digest("economy_us_federal", 2, steps=20, seed=1)
    assert base != digest("economy_us_federal", 2, steps=19)
