"""Population files load into typed configs, and every mistake is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopsim.agents.scripted import ConditionalCooperatorParams
from coopsim.schema import ConfigError
from coopsim.stress.populations import (
    default_suite,
    list_populations,
    load_population,
    population_from_dict,
)


def test_every_shipped_population_loads_and_its_shares_add_up():
    shipped = list_populations()
    assert {"fgf2001", "altruists_and_free_riders", "commons_greedy"} <= set(shipped)
    for name in shipped:
        config = load_population(name)
        assert config.name == name
        assert abs(sum(m.share for m in config.members) - 1) < 1e-9


def test_fgf2001_holds_the_measured_proportions():
    config = load_population("fgf2001")
    shares = {m.policy: m.share for m in config.members}
    assert shares == {
        "conditional_cooperator": 0.50,
        "free_rider": 0.30,
        "hump_shaped": 0.14,
        "random": 0.06,
    }
    assert isinstance(config.members[0].params, ConditionalCooperatorParams)
    assert "Fischbacher" in config.description and "Assumed" in config.description


def test_default_suite_is_per_world():
    assert [p.name for p in default_suite("public_goods")] == [
        "altruists_and_free_riders",
        "fgf2001",
    ]
    assert {p.world for p in default_suite("commons")} == {"commons"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pop.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('world = "public_goods"\n[[members]]\npolicy = "nobody"\nshare = 1.0', "members[0].policy", "allowed"),
        ('world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 0.5', "members", "add up to 0.5"),
        ('world = "mars"\n[[members]]\npolicy = "free_rider"\nshare = 1.0', "world", "allowed"),
        ('world = "public_goods"\n[[members]]\nshare = 1.0', "members[0]", "exactly one"),
        ('world = "public_goods"\n[[members]]\nrun = "no/such/run"\nshare = 1.0', "members[0].run", "not a run directory"),
        ('world = "public_goods"\n[[members]]\npolicy = "conditional_cooperator"\nshare = 1.0\nparams = { initial = 2.0 }', "members[0].params.initial", "must be"),
        ('world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 1.0\nparams = { x = 1 }', "members[0].params", "takes no parameters"),
        ('world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 0.0', "members[0].share", "must be"),
        ('world = "public_goods"\ncolour = "red"\n[[members]]\npolicy = "free_rider"\nshare = 1.0', "colour", "unknown key"),
        ('world = "public_goods"\nmembers = []', "members", "empty"),
        ("world = ", "(syntax)", "not valid TOML"),
        ('world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 1.0\nvote_beta = 1.0', "members[0].vote_beta", "must be"),
        ('world = "public_goods"\n[[members]]\npolicy = "free_rider"\nshare = 1.0\nvote_alpha = -1', "members[0].vote_alpha", "must be"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_error_naming_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_population(path)
    assert err.value.field == field
    assert words in err.value.problem
    assert str(path) in str(err.value)


def test_unknown_names_list_the_shipped_ones():
    with pytest.raises(ConfigError, match="fgf2001"):
        load_population("no_such_population")


def test_a_run_member_must_be_a_run_directory(stress_runs):
    run = stress_runs["planner-s1"]
    config = population_from_dict(
        {"world": "public_goods", "members": [{"run": str(run), "share": 1.0}]}
    )
    assert config.runs == [str(run)]


def test_a_scripted_member_that_cannot_play_the_world_is_refused_by_name(tmp_path):
    path = write(
        tmp_path, 'world = "public_goods"\n[[members]]\npolicy = "gather_build"\nshare = 1.0'
    )
    with pytest.raises(ConfigError) as err:
        load_population(path)
    assert err.value.field == "members[0].policy" and "does not play" in err.value.problem


def test_inequity_averse_voters_carry_their_alpha_and_beta_to_their_seats():
    from coopsim import scenario as sc
    from coopsim.builder import make_world
    from coopsim.stress.members import member_seats

    strong = load_population("fairness_strong")
    assert [m.vote_aversion for m in strong.members] == [(1.0, 0.6), (4.0, 0.6)]
    assert [m.share for m in strong.members] == [0.75, 0.25]  # Fehr and Schmidt's 30% and 10%
    assert load_population("fairness_mild").members[0].vote_aversion == (0.5, 0.25)
    assert load_population("hurdle_low").members[0].vote_aversion is None
    seats = member_seats(strong, make_world(sc.load("democratic_ai_planner"), 1))
    assert [s.vote_aversion for s in seats] == [(1.0, 0.6), (4.0, 0.6)]
