"""``coopsim stress``'s printed verdict names rules as the brief and the Compare page do."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from coopsim.cli.stress import verdict_lines


def frame() -> pd.DataFrame:
    """Two rules (scenarios a and b), each met by the other's learners; b's worst case, the
    learners trained under a, is above b's own value; a has an exploiter that gained."""
    rows = [
        ("a", "in-distribution", "in-distribution", "objective", 100.0, 99.0, 101.0),
        ("a", "trained under b", "cross-rule", "objective", 80.0, 79.0, 81.0),
        ("a", "exploiter (1 seat)", "exploiter", "objective", 70.0, 65.0, 75.0),
        ("a", "exploiter (1 seat)", "exploiter", "exploiter_gain", 5.0, 4.0, 6.0),
        ("a", "exploiter (1 seat)", "exploiter", "exploiter_iterations", 30.0, 30.0, 30.0),
        ("a", "exploiter (1 seat)", "exploiter", "objective_change", -30.0, -35.0, -25.0),
        ("b", "in-distribution", "in-distribution", "objective", 50.0, 49.0, 51.0),
        ("b", "trained under a", "cross-rule", "objective", 60.0, 58.0, 62.0),
    ]
    columns = ["rule", "population", "kind", "measure", "mean", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=columns)
    out["n"], out["over"], out["units"] = 4, "episodes", ""
    return out


RULES = [
    SimpleNamespace(label="matching 4:1", scenarios=["a"], own_objective="nash"),
    SimpleNamespace(label="no mechanism", scenarios=["b"], own_objective="nash"),
]


def test_the_verdict_names_rules_and_populations_by_their_labels():
    lines = verdict_lines(frame(), RULES, {}, episodes=4)
    table = next(line for line in lines if line.lstrip().startswith("rule"))
    rows = table.splitlines()[1:]  # the header, then a row per rule
    assert rows[0].split()[:2] == ["matching", "4:1"]
    assert rows[1].split()[:2] == ["no", "mechanism"]
    assert "trained under no mechanism" in rows[0] and "trained under matching 4:1" in rows[1]
    # the exploiter's gain in the words the brief and the app give it, by the rule's label
    (words,) = [line for line in lines if "per seat" in line]
    assert words.startswith("matching 4:1: an exploiter (1 seat) gained +5 [+4, +6] per seat")
    assert "(30 iterations)" in words
    # b's worst case above its own value is explained, by labels too
    (note,) = [line for line in lines if "is above in-distribution" in line]
    assert note.startswith("note: no mechanism: worst case 60 (trained under matching 4:1)")
    text = "\n".join(lines)
    assert "trained under a" not in text and "trained under b" not in text


def test_a_scenario_two_rules_share_keeps_its_name_with_a_note():
    """Runs of two rules from one scenario are pooled by the stress test: the verdict keeps
    them under the scenario's name and says why, rather than dropping them."""
    twins = [*RULES, SimpleNamespace(label="matching 2:1", scenarios=["a"], own_objective="nash")]
    lines = verdict_lines(frame(), twins, {}, episodes=4)
    table = next(line for line in lines if line.lstrip().startswith("rule"))
    rows = table.splitlines()[1:]  # the header, then a row per rule
    assert rows[0].split()[:2] == ["no", "mechanism"]
    assert rows[1].split()[0] == "a"
    assert any(line.startswith("note: a: runs of more than one rule") for line in lines)


def test_repeated_coalition_sizes_are_refused():
    """One exploiter per size: a size given twice would read its cell twice and count its
    episodes twice in the interval."""
    import argparse

    import pytest

    from coopsim.cli.stress import coalition_list

    assert coalition_list("2,1") == [2, 1]
    with pytest.raises(argparse.ArgumentTypeError, match="distinct"):
        coalition_list("1,1")


def test_only_the_options_typed_count_as_given():
    from coopsim.cli import build_parser
    from coopsim.cli.stress import given_options

    def parse(*flags: str):
        return build_parser().parse_args(["stress", "r", "--out", "o", *flags])

    assert given_options(parse()) == {}
    assert given_options(parse("--config", "x.toml")) == {}
    typed = parse("--seed", "0", "--exploit-seeds", "1,2", "--populations", "--partners", "p")
    assert given_options(typed) == {
        "seed": 0, "exploit_seeds": [1, 2], "populations": [], "partners": ["p"],
    }  # fmt: skip
