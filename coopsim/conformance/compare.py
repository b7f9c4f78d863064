"""Tensor and trajectory comparisons that say where two runs first part ways."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from coopsim.conformance.rollout import Trajectory

EXACT = (0.0, 0.0)  # (rtol, atol): bitwise equality
FLOAT32 = (1e-5, 1e-5)  # (rtol, atol): what different kernels on the same numbers may change


def tensor_difference(a: Tensor, b: Tensor, tol: tuple[float, float] = EXACT) -> str | None:
    """None when ``a`` and ``b`` agree (bitwise, or to ``tol``), else what differs."""
    if a.shape != b.shape:
        return f"shape {list(a.shape)} vs {list(b.shape)}"
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    a, b = a.cpu(), b.cpu()
    if tol == EXACT:
        if torch.equal(a, b):
            return None
    elif torch.allclose(a.double(), b.double(), rtol=tol[0], atol=tol[1]):
        return None
    if a.dtype == torch.bool:
        where = (a != b).nonzero()[0].tolist()
        return f"{a[tuple(where)].item()} vs {b[tuple(where)].item()} at index {tuple(where)}"
    diff = (a.double() - b.double()).abs()
    diff = torch.where(torch.isnan(diff), torch.inf, diff)
    where = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), diff.shape))
    return (
        f"{a[where].item():.6g} vs {b[where].item():.6g} at index {where} "
        f"(max |difference| {diff[where].item():.3g})"
    )


def trajectory_difference(
    a: Trajectory, b: Trajectory, tol: tuple[float, float] = EXACT
) -> str | None:
    """None when two trajectories agree step for step, else the first thing that differs."""
    d = tensor_difference(a.first_obs, b.first_obs, tol)
    if d:
        return f"the first observation differs: {d}"
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} steps vs {len(b.steps)}"
    for t, (x, y) in enumerate(zip(a.steps, b.steps)):
        for name in ("actions", "active", "mask", "obs", "reward", "done"):
            u, v = getattr(x, name), getattr(y, name)
            if (u is None) != (v is None):
                return f"step {t}: {name} is None on one side only"
            exact = name in ("actions", "active", "mask", "done")
            d = None if u is None else tensor_difference(u, v, EXACT if exact else tol)
            if d:
                return f"step {t}: {name} differs: {d}"
        if x.round_end != y.round_end:
            return f"step {t}: round_end {x.round_end} vs {y.round_end}"
        if list(x.info) != list(y.info):
            return f"step {t}: info keys {list(x.info)} vs {list(y.info)}"
        for key in x.info:
            d = tensor_difference(x.info[key], y.info[key], tol)
            if d:
                return f"step {t}: info[{key!r}] differs: {d}"
        if list(x.flows) != list(y.flows):
            return f"step {t}: flow labels {list(x.flows)} vs {list(y.flows)}"
        for label in x.flows:
            for part, u, v in zip(("transfer", "pool", "external"), x.flows[label], y.flows[label]):
                d = tensor_difference(u, v, tol)
                if d:
                    return f"step {t}: flow {label!r} {part} differs: {d}"
    return None
