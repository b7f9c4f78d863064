"""Schelling diagrams of the commons."""

from __future__ import annotations

import numpy as np
import pytest

from coopsim.analysis import SchellingDiagram, schelling, schelling_figure


def diagram(rc, rd) -> SchellingDiagram:
    n = len(rc)
    z = np.zeros(n)
    return SchellingDiagram("x", np.arange(n), np.array(rc), z, np.array(rd), z, 1)


def test_criteria_hand_built():
    # greed: defecting pays however many cooperate, yet all cooperating beats all defecting
    prisoners = diagram([1.0, 2.0, 3.0], [1.5, 2.5, 3.5]).criteria()
    assert prisoners["greed"] and prisoners["fear"] and prisoners["social_dilemma"]
    # cooperating always pays more: no dilemma
    assert not diagram([2.0, 3.0, 4.0], [1.0, 2.0, 3.0]).criteria()["social_dilemma"]
    # defecting always pays and mutual defection is best: no dilemma either
    harmless = diagram([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]).criteria()
    assert not harmless["cooperation_beats_defection"] and not harmless["social_dilemma"]


def test_needs_a_commons():
    with pytest.raises(ValueError, match="needs a commons world"):
        schelling("public_goods")


@pytest.mark.slow
def test_default_commons_is_a_social_dilemma():
    """At the default 1000-step episodes: when every other agent is greedy a greedy agent
    does better than a restrained one (fear), and all restrained beats all greedy by far."""
    d = schelling("commons", episodes=2, episode_length=1000)
    assert d.criteria()["social_dilemma"]
    assert d.criteria()["fear"]
    assert d.cooperator[-1] > 3 * d.defector[0]
    assert len(d.frame()) == 5
    assert schelling_figure(d).axes[0].get_xlabel() == "number of other cooperators"
