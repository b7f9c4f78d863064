"""Sweep specs: fields, values, grids, random samples, cells, and refusals that name the field."""

from __future__ import annotations

import pytest

from coopsim import scenario as sc
from coopsim.schema import ConfigError
from coopsim.sweeps.spec import (
    Cell,
    SweepSpec,
    cell_scenario,
    load_base,
    normalise_field,
    parse_seeds,
    parse_set,
    spec_from_table,
)


def test_set_parses_toml_values_and_both_index_styles():
    assert parse_set("mechanisms[0].rate=0,0.25,2") == ("mechanisms.0.rate", [0, 0.25, 2])
    assert parse_set("evaluation.device=cpu,'cuda'") == ("evaluation.device", ["cpu", "cuda"])
    assert parse_set("mechanisms.0.rates=[0,0.2],[0.1,0.3]")[1] == [[0, 0.2], [0.1, 0.3]]
    assert normalise_field(" world.multiplier ") == "world.multiplier"
    with pytest.raises(ConfigError, match="--set: got 'rate', expected FIELD=VALUE"):
        parse_set("rate")


def test_seeds_are_a_count_or_a_list():
    assert parse_seeds("4") == [0, 1, 2, 3]
    assert parse_seeds("0,2,5") == [0, 2, 5]
    for bad in ("0", "1,1", "-1,2", "x"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)


def test_a_grid_is_every_combination_in_field_order():
    spec = SweepSpec(grid={"world.multiplier": [1.2, 1.6], "mechanisms.0.rate": [0, 1, 2]})
    cells = spec.cells()
    assert len(cells) == 6
    assert cells[0].values == {"world.multiplier": 1.2, "mechanisms.0.rate": 0}
    assert cells[-1].values == {"world.multiplier": 1.6, "mechanisms.0.rate": 2}
    assert len({c.name for c in cells}) == 6


def test_cell_names_depend_on_values_not_position():
    assert Cell({"a.rate": 0.5}).name == Cell({"a.rate": 0.5}).name
    assert Cell({"a.rate": 0.5}).name != Cell({"a.rate": "0.5"}).name
    assert Cell({"mechanisms.0.rate": 0.25}).name.startswith("rate_0_25-")


def test_random_samples_are_reproducible_and_within_bounds():
    table = {
        "seeds": [3, 4],
        "random": {
            "samples": 20,
            "seed": 7,
            "training.learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
            "world.rounds": {"low": 2, "high": 9, "integer": True},
            "mechanisms.0.rate": [0, 1, 2],
        },
    }
    spec = spec_from_table(table)
    assert spec.seeds == [3, 4] and spec.samples == 20
    cells = spec.cells()
    assert [c.values for c in cells] == [c.values for c in spec_from_table(table).cells()]
    rates = [c.values["training.learning_rate"] for c in cells]
    assert all(1e-4 <= r <= 1e-1 for r in rates) and min(rates) < 1e-2 < max(rates)
    assert all(isinstance(c.values["world.rounds"], int) for c in cells)
    assert {c.values["mechanisms.0.rate"] for c in cells} <= {0, 1, 2}


def test_a_grid_and_random_samples_cross():
    spec = spec_from_table(
        {"grid": {"world.rounds": [5, 10]}, "random": {"samples": 3, "world.multiplier": [1.2]}}
    )
    assert len(spec.cells()) == 6


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"seed": 1}, "sweep.seed"),
        ({"grid": {"world.rounds": 3}}, "sweep.grid.world.rounds"),
        ({"random": {"world.rounds": [1]}}, "sweep.random.samples"),
        ({"random": {"samples": 2, "x": {"low": 2, "high": 1}}}, "sweep.random.x"),
        ({"random": {"samples": 2, "x": {"low": 0, "high": 1, "log": True}}}, "sweep.random.x"),
    ],
)
def test_bad_sweep_tables_name_the_key(table, field):
    with pytest.raises(ConfigError) as err:
        spec_from_table(table)
    assert err.value.field == field


def test_cells_are_validated_by_the_scenario_loader():
    base = sc.load("public_goods_matching")
    data = base.to_dict()
    assert cell_scenario(data, Cell({"mechanisms.0.rate": 0.5})).mechanisms[0].params.rate == 0.5
    cases = {
        "mechanisms.0.rat": "no such field; allowed here: kind, rate",
        "mechanisms.2.rate": "mechanisms.2: no such entry; the list has 1",
        "training.seed": "training: no such field",
        "world": "is a table or a list of tables",
        "mechanisms": "is a table or a list of tables",
    }
    for field, message in cases.items():
        with pytest.raises(ConfigError, match=message) as err:
            cell_scenario(data, Cell({field: 1}))
        assert err.value.field == field
    with pytest.raises(ConfigError, match=r"got -1.0, must be >= 0.*mechanisms.0.rate=-1"):
        cell_scenario(data, Cell({"mechanisms.0.rate": -1}))


def test_a_scenario_file_may_carry_its_sweep(tmp_path):
    text = sc.resolve_path("public_goods_matching").read_text()
    own = tmp_path / "own.toml"
    own.write_text(text + '\n[sweep]\nseeds = 2\n[sweep.grid]\n"mechanisms.0.rate" = [0, 1]\n')
    base, spec = load_base(own)
    assert base.name == "public_goods_matching" and spec.grid == {"mechanisms.0.rate": [0, 1]}
    named = tmp_path / "named.toml"
    named.write_text('[sweep]\nscenario = "public_goods"\nseeds = [5]\n')
    base, spec = load_base(named)
    assert base.name == "public_goods" and spec.seeds == [5] and spec.grid == {}
    assert load_base("public_goods")[1] is None


@pytest.mark.parametrize(
    ("low", "high"), [(1, float("inf")), (float("nan"), 1), (-float("inf"), 1), (0, float("nan"))]
)
def test_random_bounds_must_be_finite(low, high):
    """A NaN or infinite end draws NaN or inf for every cell: refused in the table itself."""
    table = {"random": {"samples": 2, "world.endowment": {"low": low, "high": high}}}
    with pytest.raises(ConfigError, match="need finite numbers") as err:
        spec_from_table(table)
    assert err.value.field == "sweep.random.world.endowment"
