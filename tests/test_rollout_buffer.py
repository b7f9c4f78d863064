"""Preallocated rollout storage gives PPO the rollout the steps wrote, row by row."""

from __future__ import annotations

import torch

from coopsim.rollout_buffer import RolloutStorage

CPU = torch.device("cpu")


def test_rows_written_per_step_read_back_as_one_rollout():
    store = RolloutStorage(steps=3, batch_size=2, seats=2, obs_dim=4, num_heads=2, device=CPU)
    gen = torch.Generator().manual_seed(0)
    written = []
    for t in range(3):
        row = (
            torch.rand(2, 2, 4, generator=gen),
            torch.randint(0, 5, (2, 2, 2), generator=gen),
            torch.rand(2, 2, generator=gen),
            torch.rand(2, 2, generator=gen),
        )
        store.add(t, *row)
        store.rewards[t] = float(t)
        written.append(row)
    store.dones[2] = 1.0
    store.active[1] = torch.tensor([True, False])
    ro = store.rollout()
    for k, name in enumerate(("obs", "actions", "logp", "values")):
        assert torch.equal(getattr(ro, name), torch.stack([w[k] for w in written])), name
    assert ro.rewards[:, 0, 0].tolist() == [0.0, 1.0, 2.0]
    assert ro.dones.tolist() == [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
    assert ro.active.tolist() == [[True, True], [True, False], [True, True]]
    assert torch.equal(ro.next_value, torch.zeros(2, 2)) and ro.mask is None


def test_masks_are_kept_once_a_world_gives_them():
    store = RolloutStorage(2, 1, 1, 1, 1, CPU)
    masks = [torch.tensor([[[True, False, True]]]), torch.tensor([[[False, True, True]]])]
    for t, mask in enumerate(masks):
        store.add(
            t,
            torch.zeros(1, 1, 1),
            torch.zeros(1, 1, 1),
            torch.zeros(1, 1),
            torch.zeros(1, 1),
            mask,
        )
    assert torch.equal(store.rollout().mask, torch.stack(masks))
