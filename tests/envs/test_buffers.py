"""The recycler hands memory out again only once nothing outside refers to it."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs.buffers import Recycler


@pytest.fixture
def recycler() -> Recycler:
    r = Recycler(torch.device("cpu"), min_bytes=16, keep=2)
    assert r.enabled, "torch no longer reports storage reference counts"
    return r


def test_memory_dropped_by_the_caller_is_reused(recycler):
    a = recycler.empty((8, 4))
    ptr = a.data_ptr()
    del a
    assert recycler.empty((8, 4)).data_ptr() == ptr


@pytest.mark.parametrize("hold", ["tensor", "view", "numpy", "autograd"])
def test_memory_still_held_is_never_handed_out_again(recycler, hold):
    a = recycler.empty((8, 4)).fill_(7.0)
    if hold == "tensor":
        kept = a
    elif hold == "view":
        kept = a[2:]
    elif hold == "numpy":
        kept = a.numpy()
    else:  # an autograd graph that saved it for the backward pass
        w = torch.ones(4, requires_grad=True)
        kept = (a * w).sum()
    del a
    for _ in range(5):  # more than it keeps: past that it allocates
        b = recycler.empty((8, 4)).fill_(-1.0)
        del b
    if hold == "autograd":
        kept.backward()
        assert torch.equal(w.grad, torch.full((4,), 56.0))
    else:
        assert (torch.as_tensor(kept) == 7.0).all()


def test_small_or_unshaped_requests_are_plain_allocations():
    r = Recycler(torch.device("cpu"), min_bytes=1 << 20)
    a = r.empty((4, 4))
    ptr = a.data_ptr()
    del a
    b = r.empty((4, 4))
    assert not r._blocks and b.shape == (4, 4)  # nothing kept below min_bytes
    del b, ptr


def test_tensors_follow_the_callers_autograd_mode(recycler):
    with torch.inference_mode():
        assert recycler.empty((8, 4)).is_inference()
    a = recycler.empty((8, 4))
    assert not a.is_inference() and not a._is_view() and not a.requires_grad
    assert a.dtype == torch.float32 and a.is_contiguous()
    assert recycler.empty((8, 4), torch.long).dtype == torch.long
