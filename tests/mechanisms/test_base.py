"""The declared mechanism interface: defaults that fit a fixed mechanism, a tax's overrides,
and the pipeline's forms of them."""

from __future__ import annotations

import pytest
import torch

from mechanisms import MECHANISMS, Mechanism, Pipeline
from mechanisms.redistribution import LumpSum, LumpSumParams
from mechanisms.tax import BracketTax, TaxParams

CPU = torch.device("cpu")


def tax(batch: int = 3, **kw) -> BracketTax:
    params = TaxParams(**kw)
    params.validate()
    return BracketTax(params, 4, batch, CPU)


def test_a_fixed_mechanism_declares_nothing_to_set_save_or_log():
    rebate = LumpSum(LumpSumParams(), 4, 3, CPU)
    assert LumpSum.period_of(rebate.params) is None and rebate.period is None
    assert "no parameters a planner can set" in LumpSum.planner_refusal(rebate.params)
    assert rebate.num_controls == 0 and rebate.controls.shape == (3, 0)
    with pytest.raises(NotImplementedError, match="no controls"):
        rebate.set_controls(torch.zeros(0))
    assert rebate.state_dict() == {} and rebate.training_log() == {}
    rebate.load_state_dict({})
    rebate.adopt(LumpSum(LumpSumParams(), 4, 5, CPU))


@pytest.mark.parametrize("kind", sorted(MECHANISMS))
def test_every_mechanism_answers_the_whole_interface(kind):
    cls = MECHANISMS[kind]
    params = cls.Params()
    mech = cls(params, 4, 2, CPU)
    assert isinstance(mech, Mechanism)
    period = cls.period_of(params)
    assert period is None or period >= 1
    assert isinstance(mech.state_dict(), dict) and isinstance(mech.training_log(), dict)
    assert mech.controls.shape == (2, mech.num_controls)
    refusal = cls.planner_refusal(params)
    assert refusal is None or kind in refusal or "saez" in refusal


def test_a_tax_declares_its_period_and_its_rates_as_controls():
    t = tax(brackets=[0.0, 10.0], rates=[0.1, 0.2], period=5)
    assert BracketTax.period_of(t.params) == 5 and t.period == 5
    assert BracketTax.planner_refusal(t.params) is None
    assert t.num_controls == 2
    t.set_controls(torch.tensor([0.3, 0.4]))
    assert torch.equal(t.controls, torch.tensor([[0.3, 0.4]] * 3))
    assert t.training_log() == {}  # a fixed schedule learns nothing


def test_a_saez_tax_refuses_a_planner_and_logs_what_it_learns():
    t = tax(schedule="saez", brackets=[0.0, 10.0])
    assert "sets its own rates" in BracketTax.planner_refusal(t.params)
    t.saez.elasticity = 0.7
    assert t.training_log() == {"rate_0": 0.0, "rate_1": 0.0, "elasticity": 0.7}


def test_pipeline_finds_saves_adopts_and_logs():
    rebate = LumpSum(LumpSumParams(), 4, 3, CPU)
    saez = tax(schedule="saez", brackets=[0.0, 10.0], period=2)
    pipe = Pipeline([rebate, saez])
    assert pipe.find("tax") is saez and pipe.period == 2
    with pytest.raises(ValueError, match=r"'quota' is not in the pipeline \(has: lump_sum, tax"):
        pipe.find("quota")
    assert Pipeline([rebate]).period is None
    saez.set_rates(torch.tensor([0.25, 0.5]))
    saez.saez.elasticity = 0.3
    assert pipe.training_log() == {"rate_0": 0.25, "rate_1": 0.5, "elasticity": 0.3}

    states = pipe.state_dict()
    assert states[0] == {} and torch.equal(states[1]["rates"], saez.rates)
    fresh = Pipeline([LumpSum(LumpSumParams(), 4, 3, CPU), tax(schedule="saez", brackets=[0, 10])])
    fresh.load_state_dict([None, states[1]])  # None: an older checkpoint's fixed mechanism
    assert torch.equal(fresh.mechanisms[1].rates, saez.rates)
    assert fresh.mechanisms[1].saez.elasticity == 0.3

    other = Pipeline(
        [LumpSum(LumpSumParams(), 4, 5, CPU), tax(5, schedule="saez", brackets=[0, 10])]
    )
    other.adopt(pipe)
    assert other.mechanisms[1].saez is not saez.saez  # a copy
    assert torch.equal(other.mechanisms[1].rates, saez.saez.schedule.expand(5, -1))


@pytest.mark.parametrize(
    ("kind", "settings", "controls"),
    [
        ("matching", {"observed": True}, [[0.0], [1.5], [37.0]]),
        (
            "sanction_institution",
            {"observed": True},
            [[0.0, 0.0, 0.0], [1.0, 0.8, 0.5], [0.3, 12.0, 2.0]],
        ),
        ("redistribution", {}, [[1.0, 0.0], [0.0, 1.0], [0.3, 0.7]]),
    ],
)
def test_what_agents_see_of_a_rule_reads_back_into_the_same_controls(kind, settings, controls):
    cls = MECHANISMS[kind]
    shown = cls(cls.Params(**settings), 4, 3, CPU)
    shown.set_controls(torch.tensor(controls))
    reader = cls(cls.Params(**settings), 4, 3, CPU)
    reader.read_observation(shown.observation()[:, 0])
    assert torch.allclose(reader.controls, torch.tensor(controls), rtol=1e-4)


def test_a_mechanism_that_shows_nothing_reads_nothing():
    rebate = LumpSum(LumpSumParams(), 4, 3, CPU)
    rebate.read_observation(torch.zeros(3, 0))  # nothing to install, no error
    with pytest.raises(NotImplementedError, match="read back"):
        tax(brackets=[0.0, 10.0], rates=[0.1, 0.2]).read_observation(torch.zeros(3, 4))
