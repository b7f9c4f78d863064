"""Argument types with one-line errors, shared by every subcommand."""

from __future__ import annotations

import argparse


def seed_list(text: str) -> list[int]:
    """argparse type for ``0,1,2``: distinct training seeds >= 0."""
    try:
        seeds = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected seeds like 0,1,2") from None
    if min(seeds) < 0 or len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"got {text!r}, need distinct seeds >= 0")
    return seeds


def field_value(text: str) -> tuple[str, object]:
    """argparse type for ``FIELD=VALUE``: the value read as TOML (``39``, ``0.5``, ``true``)."""
    from coopsim.sweeps.spec import parse_value

    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"got {text!r}, expected FIELD=VALUE")
    return name.strip(), parse_value(value)


def positive_int(text: str) -> int:
    """argparse type for counts: an integer >= 1, refused with a usage message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}, must be >= 1")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for seeds: an integer >= 0, refused with a usage message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {value}, must be >= 0")
    return value
