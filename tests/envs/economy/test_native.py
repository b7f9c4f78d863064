"""The economy's native kernels: equal to the torch path, built once, and a clean fallback."""

from __future__ import annotations

import pytest
import torch

from coopsim.envs import native_build
from coopsim.envs.economy import native

MAP = "..W..\n.s.w.\n.....\n..W.s\nWw..."


@pytest.fixture
def kernels():
    """The kernels built (skipped where this machine has no C compiler), on again after."""
    if native.library() is None:
        pytest.skip(f"economy kernels not built here: {native.note()}")
    yield
    native.set_enabled(True)


def play(world, steps: int, seed: int, on: bool) -> list[torch.Tensor]:
    """Observations of ``steps`` steps of uniform random actions, kernels on or off."""
    native.set_enabled(on)
    world.reset(seed=seed)
    b, n = world.batch_size, world.spec.num_agents
    nvec = torch.tensor(world.spec.action_nvec)
    gen = torch.Generator().manual_seed(seed)
    out = [world.observe()]
    for _ in range(steps):
        out.append(world.step((torch.rand(b, n, len(nvec), generator=gen) * nvec).long()).obs)
    return out


@pytest.mark.parametrize(
    "n, starts, kw",
    [
        (1, [0, 0], {}),  # a lone agent: no other agent's quotes
        (2, [0, 0, 4, 4], {"max_orders": 1, "order_limit": "per_resource"}),
        (3, [0, 0, 2, 2, 4, 4], {"view_radius": 2, "max_price": 3, "order_duration": 4}),
        (4, [0, 0, 2, 2, 4, 4, 1, 0], {"same_step_price": "ask", "gathering": "auto"}),
    ],
)
def test_native_observation_equals_the_torch_path(tiny, kernels, n, starts, kw):
    world = tiny(MAP, starts, n=n, batch=5, episode_length=40, **kw)
    fast, plain = play(world, 60, 3, True), play(world, 60, 3, False)
    assert len(fast) == len(plain) == 61
    for t, (a, b) in enumerate(zip(fast, plain)):
        assert torch.equal(a, b), f"step {t}"
    # the window is not all one value: agents, water and resources show up in it
    assert fast[-1].unique().numel() > 3


def test_native_observation_is_written_where_the_torch_path_would_write(tiny, kernels):
    """A corrupted field would show: the kernel's output is checked field by field."""
    world = tiny(MAP, [0, 0, 4, 4], n=2, batch=2, max_price=4)
    native.set_enabled(True)
    obs = world.reset(seed=0)
    sl = world.layout.slices
    assert torch.equal(obs[..., sl["inventory"]][..., 0], world.state.coin / 100)
    assert torch.equal(obs[..., sl["skills"]][..., 1], world.state.gather_bonus)
    quotes = obs[..., sl["market"]].view(2, 2, 2, 6)
    assert (quotes[..., 1] == 1).all() and (quotes[..., 3] == 0).all()  # no ask anywhere


def test_the_library_is_compiled_once_and_then_loaded(kernels, tmp_path, monkeypatch, unbuilt):
    monkeypatch.setenv("COOPSIM_CACHE", str(tmp_path))
    unbuilt(native.KERNELS)
    assert native.library() is not None
    first = native.compile_seconds()
    assert first > 0 and len(list((tmp_path / "native").glob("*.so"))) == 1
    unbuilt(native.KERNELS)
    assert native.library() is not None and native.compile_seconds() == 0.0  # from the cache


def test_without_a_compiler_the_torch_path_runs_with_one_note(tiny, monkeypatch, capsys, unbuilt):
    unbuilt(native.KERNELS)
    monkeypatch.delenv("COOPSIM_NATIVE", raising=False)  # the note under test is the compiler's
    monkeypatch.setattr(native_build, "compiler", lambda: None)
    world = tiny(MAP, [0, 0, 4, 4], n=2, batch=2)
    world.step(torch.zeros(2, 2, 3, dtype=torch.long))
    world.step(torch.zeros(2, 2, 3, dtype=torch.long))
    err = capsys.readouterr().err
    assert err.count("economy kernels not compiled") == 1 and "no C compiler" in err
    assert not native.enabled() and "no C compiler" in native.note()


def test_turned_off_by_the_environment(monkeypatch, unbuilt):
    unbuilt(native.KERNELS)
    monkeypatch.setenv("COOPSIM_NATIVE", "0")
    assert native.library() is None and "COOPSIM_NATIVE=0" in native.note()


@pytest.mark.parametrize("head, value", [(0, 7), (0, -1), (1, 99), (2, -3)])
def test_an_action_out_of_range_is_refused_and_changes_nothing(tiny, kernels, head, value):
    """Too large, on both paths; negative, on the kernels' (torch's indexing would read a
    negative act from the end of its table)."""
    for on in (True, False) if value > 0 else (True,):
        native.set_enabled(on)
        world = tiny(MAP, [0, 0, 4, 4], n=2, batch=3)
        before = [x.clone() for x in (world.state.coin, world.state.pos, world.state.order_age)]
        actions = torch.zeros(3, 2, 3, dtype=torch.long)
        actions[1, 1, head] = value
        with pytest.raises(IndexError):
            world.step(actions)
        after = (world.state.coin, world.state.pos, world.state.order_age)
        assert all(torch.equal(a, b) for a, b in zip(before, after))
