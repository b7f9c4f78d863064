"""Memory for a world's outputs that is reused once nobody holds the tensors made from it.

Why: a world returns new tensors every step (observations, rewards, infos), and at large B they
are megabytes each. A fresh allocation of that size often comes from pages the operating system
has to map and zero on first touch, so at B = 262,144 public-goods worlds more than half of a
step's CPU time went to page faults, not to the game. Writing into buffers kept from step to
step avoids that, but handing the same buffer out twice would change a tensor a caller still
holds (a rollout's previous observation, a NumPy array an adapter returned).

:class:`Recycler` does both: each tensor it hands out is a new tensor over memory it keeps, and
a block is handed out again only when nothing but the recycler refers to it any more (no
tensor, view, NumPy array or autograd record), which torch's storage reference count tells. A
caller that keeps its outputs simply gets fresh memory; values it holds never change.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

# Below this size reusing buffers saved nothing measurable (the allocator mostly hands back
# blocks it already has) and its bookkeeping cost a few percent of a small step (the commons
# at B = 64, 470 kB observations); from a few megabytes fresh pages were the rule.
MIN_BYTES = 1 << 20
# Blocks kept per shape: a step's outputs, the previous step's that a caller still holds (a
# rollout keeps the last observation until the next arrives), and one spare.
KEEP = 3


def _storage_refs(base: Tensor) -> int | None:
    """How many holders ``base``'s memory has besides ``base`` itself, or None where torch
    cannot say (then nothing is reused)."""
    count = getattr(torch._C, "_storage_Use_Count", None)
    if count is None:
        return None
    # The temporary storage object made to ask counts once, ``base`` once.
    return count(base.untyped_storage()._cdata) - 2


class Recycler:
    """Hands out uninitialised tensors, reusing memory that nothing outside refers to.

    Only CPU tensors of at least ``min_bytes`` are recycled (CUDA's caching allocator already
    reuses device memory); anything else is a plain ``torch.empty``. Whoever takes a tensor
    must write every element of it, as after ``torch.empty``.
    """

    def __init__(self, device: torch.device, min_bytes: int = MIN_BYTES, keep: int = KEEP):
        self.device = torch.device(device)
        self.min_bytes = min_bytes
        self.keep = keep
        self.enabled = self.device.type == "cpu" and _storage_refs(torch.empty(1)) == 0
        self._blocks: dict[tuple[tuple[int, ...], torch.dtype], list[Tensor]] = {}

    def empty(self, shape: Sequence[int], dtype: torch.dtype = torch.float32) -> Tensor:
        """A tensor of ``shape`` whose memory no other live tensor shares (contents arbitrary)."""
        shape = tuple(shape)
        nbytes = dtype.itemsize
        for s in shape:
            nbytes *= s
        if not self.enabled or nbytes < self.min_bytes:
            return torch.empty(shape, dtype=dtype, device=self.device)
        blocks = self._blocks.setdefault((shape, dtype), [])
        for base in blocks:
            if _storage_refs(base) == 0:
                return self._alias(base)
        if len(blocks) >= self.keep:  # every kept block is held outside: a fresh one
            return torch.empty(shape, dtype=dtype, device=self.device)
        with torch.inference_mode(False):  # kept across modes; never computed with itself
            base = torch.empty(shape, dtype=dtype, device=self.device)
        blocks.append(base)
        return self._alias(base)

    @staticmethod
    def _alias(base: Tensor) -> Tensor:
        """A new tensor over ``base``'s memory, made in the caller's autograd mode, as a new
        tensor from an operation would be (so it is an inference tensor under
        ``torch.inference_mode`` and an ordinary one outside it, not a view of ``base``)."""
        out = torch.empty(0, dtype=base.dtype, device=base.device)
        return out.set_(base.untyped_storage(), 0, base.shape, base.stride())

    def clear(self) -> None:
        """Forget every kept block (their memory is freed once callers drop their tensors)."""
        self._blocks.clear()
