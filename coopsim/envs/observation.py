"""Observation vectors with named fields, so scripted policies and people can read them."""

from __future__ import annotations

import torch
from torch import Tensor


class ObsLayout:
    """Fixed order of named fields in a flat per-agent observation vector."""

    def __init__(self, fields: list[tuple[str, int]]):
        self.slices: dict[str, slice] = {}
        start = 0
        for name, width in fields:
            self.slices[name] = slice(start, start + width)
            start += width
        self.size = start

    def pack(self, batch: int, agents: int, device: torch.device, **values) -> Tensor:
        """Write every field into one [B, N, size] tensor; scalars and [B, N] broadcast."""
        out = torch.empty(batch, agents, self.size, device=device)
        for name, sl in self.slices.items():
            v = values[name]
            if isinstance(v, Tensor) and v.dim() == 2:
                v = v[..., None]
            out[..., sl] = v
        return out


def egocentric(x: Tensor) -> Tensor:
    """[B, N] per-agent values -> [B, N, N], row i listing agents i, i+1, ... (mod N).

    Every agent sees the group from its own seat, so one shared policy fits every seat.
    """
    n = x.shape[-1]
    idx = (torch.arange(n, device=x.device)[:, None] + torch.arange(n, device=x.device)) % n
    return x[:, idx]
