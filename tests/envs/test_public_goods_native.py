"""The public-goods observation's native pass: the torch path's bits, its checks, its fallback."""

from __future__ import annotations

import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.envs import public_goods_native as native
from coopsim.envs.public_goods import PublicGoodsConfig, PublicGoodsWorld


@pytest.fixture
def kernel():
    """The kernel built (skipped where this machine has no C compiler), on again after."""
    if native.library() is None:
        pytest.skip(f"public-goods kernel not built here: {native.note()}")
    native.set_enabled(True)
    yield
    native.set_enabled(True)


def scramble(world: PublicGoodsWorld, seed: int, current: bool) -> None:
    """Arbitrary float state (not only what the rules reach): signs, fractions, zeros."""
    g = torch.Generator().manual_seed(seed)
    b, n = world.batch_size, world.config.num_agents
    world.last_contribution = torch.rand(b, n, generator=g) * 30
    world.last_contribution[0] = 0.0
    world.last_payoff = torch.randn(b, n, generator=g) * 50
    world.current_contribution = torch.rand(b, n, generator=g) * 7 if current else world._zero


@pytest.mark.parametrize("n", [2, 3, 4, 5, 16])
@pytest.mark.parametrize("unequal", [False, True])
@pytest.mark.parametrize("current", [False, True])
def test_the_kernel_writes_the_torch_paths_bits(kernel, n, unequal, current):
    endowments = [float(3 + 7 * (i % 3)) for i in range(n)] if unequal else []
    config = PublicGoodsConfig(num_agents=n, endowment=20.0, multiplier=1.7, endowments=endowments)
    world = PublicGoodsWorld(config, batch_size=9)
    for seed in range(3):
        scramble(world, seed, current)
        fast, plain = world._observe_native(), world._observe_torch()
        assert fast.shape == plain.shape == (9, n, world.spec.obs_dim)
        assert torch.equal(fast.view(torch.int32), plain.view(torch.int32)), (n, seed)
    # the rows differ between agents and worlds: nothing was written to one place only
    assert fast[1:].unique().numel() > 4 * n


@pytest.mark.parametrize("name", ["public_goods_tax", "democratic_ai_planner"])
def test_mechanisms_columns_are_the_torch_paths(kernel, name):
    world = builder.make_world(sc.load(name), 6, "cpu")
    nvec = torch.tensor(world.spec.action_nvec)
    g = torch.Generator().manual_seed(1)
    seen = 0
    for _ in range(world.spec.horizon):
        world.step((torch.rand(6, 4, len(nvec), generator=g) * nvec).long())
        fast, plain = world._observe_native(), world._observe_torch()
        assert torch.equal(fast.view(torch.int32), plain.view(torch.int32))
        seen += int(fast[..., world.spec.obs_fields["mechanisms"]].count_nonzero())
    assert world.pipeline.obs_dim and seen  # the mechanisms' columns were not all zero


def test_fields_land_where_the_layout_says(kernel):
    world = PublicGoodsWorld(PublicGoodsConfig(endowments=[10.0, 2.0, 2.0, 2.0]), batch_size=2)
    world.reset(seed=0)
    world.step(torch.tensor([[[20], [10], [0], [5]]] * 2))
    obs = world.observe()
    sl = world.spec.obs_fields
    assert obs[0, :, sl["own_last_contribution"]].squeeze(-1).tolist() == [1.0, 0.5, 0.0, 0.25]
    assert obs[0, 1, sl["last_contributions"]].tolist() == [0.5, 0.0, 0.25, 1.0]  # own seat first
    assert (obs[..., sl["round_progress"]] == torch.tensor(0.1)).all()  # round 1 of 10
    assert (obs[..., sl["current_contributions"]] == 0).all()


def test_a_state_the_kernel_cannot_read_takes_the_torch_path(kernel, monkeypatch):
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=5)
    scramble(world, 0, True)
    expected = world._observe_native()
    world.last_payoff = world.last_payoff.t().contiguous().t()  # the same values, transposed
    calls = []
    monkeypatch.setattr(native, "observe", lambda *a: calls.append(a))
    assert not world.last_payoff.is_contiguous() and not world._native_ready()
    got = world.observe()
    assert not calls and torch.equal(got, expected)


def test_bad_input_is_refused_with_a_reason(kernel):
    out, head = torch.empty(2, 4, 14), torch.zeros(3)
    last, total, payoff = torch.zeros(2, 4), torch.zeros(2, 1), torch.zeros(2, 4)
    native.observe(out, head, last, total, payoff, 1.0, None, None, 1.0, None)
    assert (out[..., 3:] == 0).all()
    with pytest.raises(ValueError, match="does not fit"):
        native.observe(torch.empty(2, 4, 15), head, last, total, payoff, 1.0, None, None, 1.0, None)
    with pytest.raises(ValueError, match=r"\[B, N\]"):
        native.observe(out, head, last[:1], total, payoff, 1.0, None, None, 1.0, None)
    with pytest.raises(ValueError, match="float32"):
        native.observe(out, head, last.double(), total, payoff, 1.0, None, None, 1.0, None)


def test_turned_off_the_world_runs_the_torch_path(monkeypatch, unbuilt):
    unbuilt(native.KERNELS)
    monkeypatch.setenv("COOPSIM_NATIVE", "0")
    assert native.library() is None and "COOPSIM_NATIVE=0" in native.note()
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=3)
    assert not world._native_ready()
    obs = world.step(torch.full((3, 4, 1), 20)).obs
    assert obs[..., world.spec.obs_fields["own_last_contribution"]].eq(1.0).all()


def test_without_a_compiler_one_note_and_the_torch_path(monkeypatch, capsys, unbuilt):
    unbuilt(native.KERNELS)
    monkeypatch.delenv("COOPSIM_NATIVE", raising=False)
    monkeypatch.setattr(native.native_build, "compiler", lambda: None)
    world = PublicGoodsWorld(PublicGoodsConfig(), batch_size=2)
    world.step(torch.zeros(2, 4, 1, dtype=torch.long))
    world.step(torch.zeros(2, 4, 1, dtype=torch.long))
    err = capsys.readouterr().err
    assert err.count("public-goods kernel not compiled") == 1 and "no C compiler" in err
    assert not native.enabled() and "no C compiler" in native.note()


@pytest.mark.parametrize("n, endowments", [(4, []), (5, [10.0, 2.0, 2.0, 2.0, 7.5]), (3, [])])
def test_payoffs_without_mechanisms_are_the_torch_paths_bits(kernel, n, endowments):
    """The fused payoff pass (gross and net) against the torch path, step by step."""
    config = PublicGoodsConfig(num_agents=n, multiplier=1.3, levels=7, endowments=endowments)
    runs = {}
    for on in (True, False):
        native.set_enabled(on)
        world = PublicGoodsWorld(config, batch_size=11)
        g = torch.Generator().manual_seed(5)
        steps = [world.step(torch.randint(0, 7, (11, n, 1), generator=g)) for _ in range(10)]
        runs[on] = [(s.reward, s.info["gross"], s.info["net"], s.obs) for s in steps]
    for fast, plain in zip(runs[True], runs[False]):
        for a, b in zip(fast, plain):
            assert torch.equal(a.view(torch.int32), b.view(torch.int32))
        assert fast[1] is not fast[2] and fast[1].data_ptr() != fast[2].data_ptr()
    assert runs[True][-1][0].unique().numel() > 3  # payoffs differ between agents and worlds


def test_payoffs_refuse_bad_shapes(kernel):
    c, t = torch.zeros(3, 4), torch.zeros(3, 1)
    with pytest.raises(ValueError, match="payoffs needs"):
        native.payoffs(c, None, 1.0, t, 0.4, torch.empty(3, 5), torch.empty(3, 4))
