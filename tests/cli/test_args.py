"""The command line's argument types: what each accepts, and its one-line refusals."""

from __future__ import annotations

import argparse

import pytest

from coopsim.cli.args import non_negative_int, positive_int, seed_list


def test_seed_lists_are_distinct_non_negative_integers():
    assert seed_list("0,2,5") == [0, 2, 5]
    assert seed_list("7") == [7]
    for text, says in (("0,x", "expected seeds like 0,1,2"), ("1,1", "distinct seeds >= 0"),
                       ("-1,2", "distinct seeds >= 0"), ("", "expected seeds")):  # fmt: skip
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            seed_list(text)


def test_counts_and_seeds_refuse_what_they_cannot_be():
    assert positive_int("3") == 3 and non_negative_int("0") == 0
    for parse, text, says in (
        (positive_int, "0", "must be >= 1"),
        (positive_int, "1.5", "expected an integer >= 1"),
        (non_negative_int, "-2", "must be >= 0"),
        (non_negative_int, "two", "expected an integer >= 0"),
    ):
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            parse(text)


def test_a_parser_turns_a_refusal_into_a_usage_error(capsys):
    parser = argparse.ArgumentParser(prog="coopsim")
    parser.add_argument("--seeds", type=seed_list)
    with pytest.raises(SystemExit):
        parser.parse_args(["--seeds", "3,3"])
    assert "argument --seeds: got '3,3', need distinct seeds >= 0" in capsys.readouterr().err
