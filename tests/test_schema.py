"""The parameter schema's number rules: finite, within bounds, element by element, in 64 bits,
and every numeric field of every registered config declaring both ends of its range."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass

import pytest

from coopsim.config import EvaluationConfig, PlannerConfig, TrainingConfig
from coopsim.scenario import MECHANISMS, SCRIPTED, WORLDS
from coopsim.schema import ConfigError, build, param
from mechanisms.base import declared_bounds


@dataclass
class Sample:
    x: float = param(1.0, help="a number", ge=0, le=10)
    xs: list[float] = param(default_factory=list, help="numbers", gt=0, le=5)
    n: int = param(1, help="a count", ge=0)
    free: float = param(0.0, help="anything", finite=False)
    maybe: float | None = param(None, help="optional", ge=0, le=1)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"x": math.nan}, "x", ["got nan", "finite", ">= 0 and <= 10"]),
        ({"x": math.inf}, "x", ["got inf", "finite"]),
        ({"x": -math.inf}, "x", ["got -inf", "finite"]),
        ({"x": 1e300}, "x", ["1e+300", "<= 10"]),
        ({"x": 10**400}, "x", ["401 characters", "finite number"]),
        ({"xs": [1.0, math.nan]}, "xs", ["element 1", "got nan", "finite"]),
        ({"xs": [1.0, 2.0, 6.0]}, "xs", ["element 2", "6.0", "<= 5"]),
        ({"xs": [0.0]}, "xs", ["element 0", "> 0"]),
        ({"n": 2**63}, "n", ["2**63"]),
        ({"maybe": math.nan}, "maybe", ["got nan"]),
    ],
)
def test_bad_numbers_are_refused_naming_the_field(data, field, words):
    with pytest.raises(ConfigError) as info:
        build(Sample, data, source="s.toml", prefix="t")
    err = info.value
    assert err.source == "s.toml"
    assert err.field == f"t.{field}"
    assert "\n" not in str(err)
    for w in words:
        assert w in str(err), (w, str(err))


def test_good_numbers_and_declared_non_finite_pass():
    made = build(Sample, {"x": 10, "xs": [5, 0.5], "n": 2**63 - 1, "free": math.inf})
    assert made.x == 10.0 and made.xs == [5.0, 0.5] and made.free == math.inf


def _registered_configs() -> list[type]:
    classes = [w[0] for w in WORLDS.values()]
    classes += [m.Params for m in MECHANISMS.values()]
    classes += [p.Params for p in SCRIPTED.values() if p.Params is not type(None)]
    classes += [TrainingConfig, PlannerConfig, EvaluationConfig]
    return list(dict.fromkeys(classes))


def _numeric(tp: typing.Any) -> bool:
    args = typing.get_args(tp) or (tp,)
    inner = [typing.get_args(a)[0] if typing.get_origin(a) is list else a for a in args]
    return any(a in (int, float) for a in inner) and str not in inner


@pytest.mark.parametrize("cls", _registered_configs(), ids=lambda c: c.__name__)
def test_every_numeric_field_declares_both_ends(cls):
    """A field without an upper bound lets 1e300 through to a world whose float32 arithmetic
    then overflows; without a lower one, -1e300. Every number a user can type has both."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not _numeric(hints[f.name]) or f.metadata.get("choices"):
            continue
        m = f.metadata
        assert m.get("ge") is not None or m.get("gt") is not None, f"{cls.__name__}.{f.name}"
        assert m.get("le") is not None or m.get("lt") is not None, f"{cls.__name__}.{f.name}"
        assert m.get("finite", True), f"{cls.__name__}.{f.name} allows non-finite values"


def test_an_overflow_limit_is_no_planner_range():
    """A fine's 1e6 bound keeps sums finite; it is no grid to search, so a planner needs one."""
    fine = MECHANISMS["sanction_institution"].Params
    assert declared_bounds(fine, "fine") == (0, None)
    assert declared_bounds(fine, "threshold") == (0, 1)


def test_a_config_file_that_is_not_toml_is_one_config_error_naming_it(tmp_path):
    from coopsim.schema import ConfigError, read_config_toml

    bad = tmp_path / "bad.toml"
    bad.write_text("[world\nkind = 1\n")
    with pytest.raises(ConfigError, match="bad.toml.*not valid TOML"):
        read_config_toml(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00kind")
    with pytest.raises(ConfigError, match="binary.toml.*not valid TOML"):
        read_config_toml(binary)
    good = tmp_path / "good.toml"
    good.write_text('[world]\nkind = "public_goods"\n')
    assert read_config_toml(good) == {"world": {"kind": "public_goods"}}
