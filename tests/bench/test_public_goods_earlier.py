"""Today's public-goods world against its frozen earlier step: bit for bit, over many steps.

Every public-goods scenario (each mechanism the world meets: none, matching, peer punishment's
two stages, the sanction institution with a rebate, taxes, Democratic AI's unequal endowments
and redistribution) is stepped in both worlds with the same random valid actions, through
resets with new seeds, a re-observation mid-episode and a replication of worlds. The digest of
every observation, reward, done flag, info entry and mechanism flow, taken as raw bytes (so a
-0.0 or a last bit differs), must match step for step, with today's observation written by the
native kernel and by the torch path alike.
"""

from __future__ import annotations

import hashlib

import pytest
import torch

from coopsim import builder
from coopsim import scenario as sc
from coopsim.bench.public_goods_earlier import EarlierPublicGoodsWorld, make_earlier_world
from coopsim.envs import public_goods_native
from coopsim.envs.base import Step, World

PUBLIC_GOODS = sorted(
    name for name in sc.list_scenarios() if sc.load(name).world.kind == "public_goods"
)


def digest(*tensors: torch.Tensor | None) -> str:
    """sha256 of each tensor's dtype, shape and raw bytes, in order."""
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def step_digest(step: Step) -> str:
    info = [step.info[k] for k in sorted(step.info)]
    flows = [
        t
        for label in sorted(step.flows)
        for t in (
            step.flows[label].transfer,
            step.flows[label].pool,
            step.flows[label].external,
            step.flows[label].outlay,
        )
    ]
    keys = ",".join(sorted(step.info)) + "|" + ",".join(sorted(step.flows))
    return f"{keys}|{step.round_end}|" + digest(step.obs, step.reward, step.done, *info, *flows)


def run(world: World, episodes: int, seed: int) -> list[str]:
    """Digests of every step of ``episodes`` episodes under random valid actions."""
    gen = torch.Generator().manual_seed(seed)
    spec, b = world.spec, world.batch_size
    nvec = torch.tensor(spec.action_nvec)
    out = [digest(world.reset(seed=seed))]
    for episode in range(episodes):
        for t in range(spec.horizon):
            u = torch.rand(b, spec.num_agents, len(spec.action_nvec), generator=gen)
            actions = (u * nvec).long().clamp_(max=nvec - 1)
            if episode == 1 and t == 0:  # every agent at the top level, then at zero
                actions[..., 0] = spec.action_nvec[0] - 1
            if episode == 1 and t == 1:
                actions.zero_()
            out.append(step_digest(world.step(actions)))
            if t == spec.horizon // 2:
                out.append("observe|" + digest(world.observe()))
            if episode == 1 and t == 2:
                source = torch.randint(0, b, (b,), generator=gen)
                out.append("replicate|" + digest(world.replicate(source)))
        out.append("reset|" + digest(world.reset(seed=seed + episode + 1)))
    return out


@pytest.fixture(params=["native", "torch"])
def path(request, monkeypatch):
    """Today's observation by the native kernel (skipped where it cannot be built) or by the
    torch path; yields a list that counts the kernel's calls."""
    on = request.param == "native"
    if on and public_goods_native.library() is None:
        pytest.skip(f"public-goods kernel not built here: {public_goods_native.note()}")
    calls: list[int] = []
    kernel = public_goods_native.observe

    def counted(*args, **kw):
        calls.append(1)
        return kernel(*args, **kw)

    monkeypatch.setattr(public_goods_native, "observe", counted)
    public_goods_native.set_enabled(on)
    yield calls
    public_goods_native.set_enabled(True)


@pytest.mark.parametrize("name", PUBLIC_GOODS)
@pytest.mark.parametrize("batch", [1, 37, 5000])
def test_steps_match_the_earlier_world_bit_for_bit(name, batch, path, request):
    scenario = sc.load(name)
    episodes = 3 if batch < 5000 else 2
    now = run(builder.make_world(scenario, batch, "cpu"), episodes, seed=batch)
    # the path under test wrote every observation of today's world, the other path none
    native = request.node.callspec.params["path"] == "native"
    assert len(path) >= len(now) if native else not path
    before = run(make_earlier_world(scenario, batch, "cpu"), episodes, seed=batch)
    assert len(now) == len(before) > scenario.world.rounds * episodes
    first = next((i for i, (a, b) in enumerate(zip(now, before)) if a != b), None)
    assert first is None, (
        f"{name}, B={batch}: step record {first} differs: {now[first]} vs {before[first]}"
    )


def test_a_changed_payoff_changes_the_digest():
    """The comparison can fail: a world whose payoffs differ in one world is caught."""
    scenario = sc.load("public_goods")
    world = make_earlier_world(scenario, 5, "cpu")
    steps = [world.step(torch.zeros(5, 4, 1, dtype=torch.long)) for _ in range(2)]
    tampered = Step(steps[1].obs, steps[1].reward.clone(), steps[1].done, steps[1].info)
    tampered.reward[3, 2] = torch.nextafter(tampered.reward[3, 2], torch.tensor(1e9))
    assert step_digest(tampered) != step_digest(steps[1])
    assert digest(torch.tensor([0.0])) != digest(torch.tensor([-0.0]))


def test_only_public_goods_scenarios_have_an_earlier_world():
    assert isinstance(make_earlier_world(sc.load("public_goods"), 2), EarlierPublicGoodsWorld)
    with pytest.raises(ValueError, match="public-goods"):
        make_earlier_world(sc.load("commons"), 2)
