"""What each economy agent sees: the fields after the map, and the map window's scratch."""

from __future__ import annotations

import torch

from coopsim.envs.economy.observation import MAP_CHANNELS


def test_place_and_clock_fields_follow_the_position_and_the_step(tiny):
    w = tiny(".....\n.....\n.....", [0, 0, 2, 4], n=2, batch=3, episode_length=50)
    sl = w.layout.slices
    gen = torch.Generator().manual_seed(0)
    for t in range(1, 8):
        acts = torch.randint(0, 5, (3, 2, 1), generator=gen)  # rest or a move
        obs = w.step(torch.cat([acts, torch.zeros(3, 2, 2, dtype=torch.long)], -1)).obs
        place = obs[..., sl["position"]]  # [B, N, 2]
        rows, cols = w.positions().unbind(-1)
        assert torch.equal(place[..., 0], rows / 3) and torch.equal(place[..., 1], cols / 5)
        clock = obs[..., sl["time"]]
        assert (clock[..., 0] == torch.tensor(t / 50)).all()
        assert (clock[..., 1] == torch.tensor((t % w.tax_period) / w.tax_period)).all()
        centre = obs[..., sl["map"]].view(3, 2, len(MAP_CHANNELS), -1)[..., -1, 4]
        assert (centre == 1).all()  # the agent channel at the window's centre: itself


def test_steps_in_and_out_of_inference_mode_see_what_plain_steps_see(tiny):
    """The map window reuses scratch tensors between steps, whatever the grad mode."""
    plain, mixed = (tiny("......", [0, 0, 0, 5], n=2) for _ in range(2))
    gen = torch.Generator().manual_seed(1)
    for t in range(6):
        acts = torch.randint(0, 5, (1, 2, 1), generator=gen)
        a = torch.cat([acts, torch.zeros(1, 2, 2, dtype=torch.long)], -1)
        expected = plain.step(a).obs
        if t % 2:
            with torch.inference_mode():
                got = mixed.step(a).obs
        else:
            got = mixed.step(a).obs
        assert torch.equal(got, expected)
