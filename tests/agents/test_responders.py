"""Rule responders against hand-computed answers: each round's payoff of every level under the
rule in force, the best response's flip at the analytic threshold, hurdles, logit odds."""

from __future__ import annotations

import math

import pytest
import torch

from coopsim import scenario as sc
from coopsim.agents.responders import (
    BestResponder,
    BestResponderParams,
    CrowdingParams,
    CrowdingResponder,
    HurdleParams,
    HurdleResponder,
    LinearParams,
    LinearResponder,
    QuantalParams,
    QuantalResponder,
)
from coopsim.agents.scripted import SCRIPTED
from coopsim.builder import make_world
from coopsim.schema import ConfigError
from coopsim.stress.populations import population_from_dict


def world_under(name: str, control: str, values: list, **world):
    """A world of the shipped scenario ``name``, one world per row of ``values`` for the
    mechanism ``control`` names, and its observation with those rules in force."""
    scenario = sc.load(name)
    for key, value in world.items():
        setattr(scenario.world, key, value)
    w = make_world(scenario, len(values))
    w.reset(seed=0)
    w.pipeline.find(control).set_controls(torch.tensor(values, dtype=torch.float32))
    return w, w.observe()


def responder(cls, params, w, seats=None):
    policy = cls(w.spec, params)
    policy.bind(w, list(range(w.spec.num_agents)) if seats is None else seats)
    return policy


def test_registered_in_the_zoo():
    for cls in (BestResponder, HurdleResponder, QuantalResponder, CrowdingResponder):
        assert SCRIPTED[cls.name] is cls
    assert SCRIPTED["linear_responder"] is LinearResponder


def test_best_response_to_matching_flips_at_the_analytic_threshold():
    # a coin given returns r (1 + m) / N to the giver: giving is best iff m > N / r - 1 = 1.5
    rates = [[0.0], [1.0], [1.45], [1.5], [1.55], [1.75], [4.0]]
    w, obs = world_under("public_goods_matching_planner", "matching", rates)
    top = w.spec.action_nvec[0] - 1
    got = responder(BestResponder, BestResponderParams(), w).act(obs, w.gen)[..., 0]
    expected = [top if m[0] > 4 / 1.6 - 1 else 0 for m in rates]  # 1.5 itself: a tie, keep
    assert got.tolist() == [[e] * 4 for e in expected]


def test_payoff_of_every_level_is_the_hand_computed_one():
    # others gave nothing last round (round 2); own c at rate m: 20 - c + 0.4 (1 + m) c
    w, _ = world_under("public_goods_matching_planner", "matching", [[0.5]])
    w.step(torch.zeros(1, 4, 1, dtype=torch.long))
    pay, endow = responder(BestResponder, BestResponderParams(), w).payoffs(w.observe())
    c = torch.arange(11) * 2.0
    assert torch.allclose(pay[0, 0], 20 - c + 0.4 * 1.5 * c)
    assert endow.tolist() == [20.0] * 4


def test_best_response_to_a_sanctioning_institution_with_rebates():
    # below the threshold a coin given returns r/N + f - f/N (the fine comes back a quarter):
    # 0.4 + 0.75 f, above it r/N = 0.4. So: nothing for f < 0.8, the threshold for f > 0.8.
    name, kind = "public_goods_institution_planner", "sanction_institution"
    rows = [[1.0, 0.7, 0.0], [1.0, 0.9, 0.0], [0.5, 2.0, 0.0], [0.3, 0.5, 0.0]]
    w, obs = world_under(name, kind, rows)
    got = responder(BestResponder, BestResponderParams(), w).act(obs, w.gen)[..., 0]
    assert got[:, 0].tolist() == [0, 10, 5, 0]


def test_best_response_under_democratic_ai_redistribution_reads_each_seats_endowment():
    # libertarian (w=0, v=1): the pot is shared by absolute contribution, so a coin given
    # comes back 1.6 times whoever gives; strict egalitarian (w=1): 0.4, so nobody gives.
    w, obs = world_under("democratic_ai_planner", "redistribution", [[0.0, 1.0], [1.0, 0.0]])
    policy = responder(BestResponder, BestResponderParams(), w)
    got = policy.act(obs, w.gen)[..., 0]
    assert got.tolist() == [[10] * 4, [0] * 4]
    hurdle = responder(HurdleResponder, HurdleParams(low=1.5, high=1.5), w)
    pay, endow = hurdle.payoffs(obs)
    per_coin = 1 + (pay[..., -1] - pay[..., 0]) / endow
    assert endow.tolist() == [10.0, 2.0, 2.0, 2.0]
    # egalitarian: r/N = 0.4 to everyone; libertarian: at least r = 1.6 (own share of the pot
    # grows faster than one's coin when the others gave less than all)
    assert torch.allclose(per_coin[1], torch.full((4,), 0.4))
    assert (per_coin[0] >= 1.6 - 1e-5).all()


def test_a_responder_holding_some_seats_answers_as_the_same_seats_of_a_full_group():
    w, obs = world_under(
        "democratic_ai_planner", "redistribution", [[0.0, 0.0], [0.3, 0.7], [0.0, 1.0]]
    )
    w.step(torch.tensor([[[3], [10], [0], [6]]] * 3))
    obs = w.observe()
    full = responder(BestResponder, BestResponderParams(), w).payoffs(obs)[0]
    part = responder(BestResponder, BestResponderParams(), w, seats=[1, 3])
    got = part.payoffs(obs[:, [1, 3]])[0]
    assert torch.allclose(got, full[:, [1, 3]])


def test_hurdles_spread_over_the_seats_and_decide_who_gives():
    # at m = 1.5 a coin returns exactly 1.0: hurdles 0.85 and 0.95 give, 1.05 and 1.15 do not
    w, obs = world_under("public_goods_matching_planner", "matching", [[1.5], [1.25], [2.0]])
    policy = responder(HurdleResponder, HurdleParams(low=0.8, high=1.2), w)
    assert torch.allclose(policy.hurdles(obs.device), torch.tensor([0.85, 0.95, 1.05, 1.15]))
    got = policy.act(obs, w.gen)[..., 0] // 10
    # m = 1.25: return 0.9 clears 0.85 only; m = 2: return 1.2 clears all four
    assert got.tolist() == [[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]]


def test_logit_choice_frequencies_match_the_logit_probabilities():
    # under matching m every level adds 2 x (0.4 (1 + m) - 1) to the payoff: the chance of
    # level k is proportional to exp(k x slope / (T x 20))
    m, temperature, worlds = 2.0, 0.1, 4000
    w, obs = world_under("public_goods_matching_planner", "matching", [[m]] * worlds)
    w.gen.manual_seed(0)
    got = responder(QuantalResponder, QuantalParams(temperature=temperature), w).act(obs, w.gen)
    slope = 2.0 * (0.4 * (1 + m) - 1) / (temperature * 20)
    weights = torch.tensor([math.exp(k * slope) for k in range(11)])
    probs = weights / weights.sum()
    mean = float((torch.arange(11) * probs).sum())
    sd = float(((torch.arange(11) - mean) ** 2 * probs).sum().sqrt())
    observed = got[..., 0].float().mean()
    assert abs(float(observed) - mean) < 4 * sd / math.sqrt(worlds * 4)
    # a cold responder is a best responder; a hot one is close to uniform
    cold = responder(QuantalResponder, QuantalParams(temperature=1e-4), w).act(obs, w.gen)
    assert (cold[..., 0] == 10).all()
    hot = responder(QuantalResponder, QuantalParams(temperature=100.0), w).act(obs, w.gen)
    assert abs(float(hot[..., 0].float().mean()) - 5.0) < 0.2


def test_the_first_round_believes_the_prior():
    # Democratic AI's liberal egalitarian (w=0, v=0) shares by contribution relative to one's
    # endowment, so seat 0's best answer depends on what it believes the others give
    w, obs = world_under("democratic_ai_planner", "redistribution", [[0.0, 0.0]])
    pay_half = responder(BestResponder, BestResponderParams(prior=0.5), w).payoffs(obs)[0]
    pay_none = responder(BestResponder, BestResponderParams(prior=0.0), w).payoffs(obs)[0]
    # nobody else gives: seat 0 alone takes the whole pot, 10 - c + 1.6 c at c > 0
    assert torch.allclose(pay_none[0, 0, 1:], 10 + 0.6 * torch.arange(1, 11.0))
    assert not torch.allclose(pay_half, pay_none)


def test_crowding_out_under_a_sanctioning_institution_is_the_hand_computed_share():
    # a fine f on shortfalls below threshold t, rebated to 4 seats, adds a = 0.75 f t to the
    # return per coin; tolerance 0.5, degree 1: share 1 - (a - 0.5) above a = 0.5, else 1
    rows = [[1.0, 0.0, 0.0], [1.0, 0.6, 0.0], [1.0, 1.0, 0.0], [1.0, 1.2, 0.0], [0.5, 2.0, 0.0]]
    rows += [[1.0, 2.0, 0.0]]
    w, obs = world_under("public_goods_institution_planner", "sanction_institution", rows)
    policy = responder(CrowdingResponder, CrowdingParams(tolerance=0.5, degree=1.0), w)
    incentive = policy.incentive(obs)
    expected = torch.tensor([0.0, 0.45, 0.75, 0.9, 0.75, 1.5])
    assert torch.allclose(incentive, expected[:, None].expand(-1, 4), atol=1e-5)
    share = policy.share(obs, w.gen)
    assert torch.allclose(share[:, 0], torch.tensor([1.0, 1.0, 0.75, 0.6, 0.75, 0.0]), atol=1e-5)
    # levels of 2 coins: a share of 0.6 is level 6 (0.75 falls between two levels)
    assert policy.act(obs, w.gen)[[0, 1, 3, 5], 0, 0].tolist() == [10, 10, 6, 0]


def test_crowding_degree_and_intrinsic_share():
    # mild: tolerance 0.75, degree 0.5 -> at the heaviest fine (a = 1.5) it gives 1 - 0.375;
    # a degree of 0 never crowds out; intrinsic 0.4 is the share given under no rule
    rows = [[1.0, 0.0, 0.0], [1.0, 2.0, 0.0]]
    w, obs = world_under("public_goods_institution_planner", "sanction_institution", rows)
    mild = responder(CrowdingResponder, CrowdingParams(tolerance=0.75, degree=0.5), w)
    assert torch.allclose(mild.share(obs, w.gen)[:, 0], torch.tensor([1.0, 0.625]))
    none = responder(CrowdingResponder, CrowdingParams(degree=0.0), w)
    assert (none.share(obs, w.gen) == 1.0).all()
    low = responder(CrowdingResponder, CrowdingParams(intrinsic=0.4, tolerance=0.5), w)
    assert torch.allclose(low.share(obs, w.gen)[:, 0], torch.tensor([0.4, 0.0]))


def test_a_match_crowds_out_as_a_fine_does():
    # a match m adds m r / N = 0.4 m per coin: m = 2 adds 0.8, 0.3 past a tolerance of 0.5
    w, obs = world_under("public_goods_matching_planner", "matching", [[0.5], [2.0]])
    policy = responder(CrowdingResponder, CrowdingParams(tolerance=0.5, degree=1.0), w)
    assert torch.allclose(policy.share(obs, w.gen)[:, 0], torch.tensor([1.0, 0.7]), atol=1e-5)


def test_a_linear_responder_gives_its_base_under_no_rule_and_rises_with_a_match():
    # a match m adds 0.4 m to the return per coin: share base + slope 0.4 m, capped at 1;
    # endowment 20 in levels of 2 coins, rounded to the nearest level
    rates = [[0.0], [0.5], [1.0], [2.5], [4.0]]
    w, obs = world_under("public_goods_matching_planner", "matching", rates)
    policy = responder(LinearResponder, LinearParams(base=0.3, slope=0.5), w)
    expected = torch.tensor([0.3, 0.4, 0.5, 0.8, 1.0])  # 0.3 + 0.2 m, 1.1 capped at 1
    assert torch.allclose(policy.share(obs, w.gen)[:, 0], expected, atol=1e-5)
    assert policy.act(obs, w.gen)[:, 0, 0].tolist() == [3, 4, 5, 8, 10]
    falling = responder(LinearResponder, LinearParams(base=0.5, slope=-1.0), w)
    assert torch.allclose(falling.share(obs, w.gen)[:, 0], torch.tensor([0.5, 0.3, 0.1, 0, 0]))


def test_a_linear_responder_under_redistribution_is_the_hand_computed_share():
    # Democratic AI: endowments 10, 2, 2, 2, r = 1.6; round 1, the others believed to give
    # half (5, 1, 1, 1). Seat i's share of the pot r sum c is s_i = w/4 + (1 - w)(v c_i /
    # sum c + (1 - v)(c_i/e_i) / sum (c_j/e_j)); its return per coin R = 1 + (pay(all) -
    # pay(none)) / e_i, where pay(none) = e_i (a seat that gives nothing gets no share by
    # contribution) plus its equal part w/4 of the pot the others made.
    rows = [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.5, 0.5]]
    w, obs = world_under("democratic_ai_planner", "redistribution", rows)
    endow = [10.0, 2.0, 2.0, 2.0]

    def incentive(wt: float, v: float, i: int) -> float:
        others = [e / 2 for j, e in enumerate(endow) if j != i]
        pot_all, pot_none = 1.6 * (endow[i] + sum(others)), 1.6 * sum(others)
        rel = 1.0 / (1.0 + 0.5 * 3)  # own relative giving 1 against three halves
        share = wt / 4 + (1 - wt) * (v * endow[i] / (endow[i] + sum(others)) + (1 - v) * rel)
        pay_all, pay_none = pot_all * share, endow[i] + pot_none * wt / 4
        return (pay_all - pay_none) / endow[i] + 1.0 - 0.4

    expected = torch.tensor([[incentive(a, b, i) for i in range(4)] for a, b in rows])
    policy = responder(LinearResponder, LinearParams(base=0.3, slope=0.5), w)
    assert torch.allclose(policy.incentive(obs), expected, atol=1e-5)
    # the baseline (strict egalitarian) adds nothing: the base share, 3 of 10 levels
    assert torch.allclose(expected[0], torch.zeros(4), atol=1e-6)
    # libertarian: a coin returns r = 1.6 to its giver (incentive 1.2); liberal egalitarian
    # pays the rich seat 0.432 and each poor seat 2.48 over r/N
    assert torch.allclose(expected[1], torch.full((4,), 1.2), atol=1e-5)
    assert torch.allclose(expected[2], torch.tensor([0.432, 2.48, 2.48, 2.48]), atol=1e-5)
    share = (0.3 + 0.5 * expected).clamp(0, 1)
    assert torch.allclose(policy.share(obs, w.gen), share, atol=1e-5)
    got = policy.act(obs, w.gen)[..., 0]
    assert got[0].tolist() == [3, 3, 3, 3] and got[1].tolist() == [9, 9, 9, 9]
    assert got[2].tolist() == [5, 10, 10, 10]  # 0.3 + 0.216 = 0.516: level 5


def test_an_unbound_responder_says_so():
    w, obs = world_under("public_goods_matching_planner", "matching", [[1.0]])
    with pytest.raises(ValueError, match="never shown one"):
        BestResponder(w.spec, BestResponderParams()).act(obs, w.gen)


@pytest.mark.parametrize(
    ("member", "field", "words"),
    [
        (
            {"policy": "hurdle_responder", "params": {"low": 1.5, "high": 1.0}},
            "members[0].params",
            "low (1.5) is above high (1)",
        ),
        (
            {"policy": "quantal_responder", "params": {"temperature": 0}},
            "members[0].params.temperature",
            "> 0",
        ),
        (
            {"policy": "crowding_responder", "params": {"degree": -1}},
            "members[0].params.degree",
            ">= 0",
        ),
        (
            {"policy": "linear_responder", "params": {"base": 1.5}},
            "members[0].params.base",
            "<= 1",
        ),
        (
            {"policy": "linear_responder", "params": {"slope": "steep"}},
            "members[0].params.slope",
            "number",
        ),
        (
            {"policy": "best_responder", "params": {"prior": 2}},
            "members[0].params.prior",
            "<= 1",
        ),
    ],
)
def test_bad_parameters_are_one_error_naming_the_field(member, field, words):
    data = {"world": "public_goods", "members": [{**member, "share": 1.0}]}
    with pytest.raises(ConfigError) as err:
        population_from_dict(data, source="p.toml")
    assert err.value.field == field and words in err.value.problem


def test_a_responder_refuses_a_world_it_cannot_read():
    data = {"world": "commons", "members": [{"policy": "best_responder", "share": 1.0}]}
    with pytest.raises(ConfigError) as err:
        population_from_dict(data, source="p.toml")
    assert err.value.field == "members[0].policy" and "public_goods worlds only" in str(err.value)


def test_a_scenario_seating_a_responder_in_another_world_is_refused_when_it_loads():
    import tomllib

    data = tomllib.loads(sc.resolve_path("prisoners_dilemma").read_text())
    data["population"] = [{"policy": "best_responder", "count": 2}]
    with pytest.raises(ConfigError) as err:
        sc.from_dict(data, source="s.toml")
    assert err.value.field == "population[0].policy" and "public_goods" in err.value.problem


def test_a_scenario_seating_a_responder_beside_peer_punishment_is_refused_when_it_loads():
    import tomllib

    data = tomllib.loads(sc.resolve_path("public_goods_punishment").read_text())
    count = sum(g["count"] for g in data["population"])
    data["population"] = [{"policy": "best_responder", "count": count}]
    with pytest.raises(ConfigError) as err:
        sc.from_dict(data, source="s.toml")
    assert err.value.field == "population[0].policy" and "peer_punishment" in err.value.problem
