"""The docs' scenario and parameter tables come from the schema and the scenario files.

``scripts/docs/tables.py`` generates them when the site is built; these tests hold the generator
to the declarations it reads, so a new field, mechanism or scenario shows up in the docs
without anyone typing it, and a marker the generator does not know fails.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts" / "docs"))

import tables  # noqa: E402

from coopsim import scenario as sc  # noqa: E402
from coopsim.envs import WORLDS  # noqa: E402
from mechanisms import MECHANISMS  # noqa: E402


def _first_column(table: str) -> list[str]:
    return [row.split("|")[1].strip().strip("`") for row in table.splitlines()[2:]]


@pytest.mark.parametrize("world", list(WORLDS))
def test_a_world_table_lists_every_field_of_its_config(world):
    config = WORLDS[world][0]
    assert _first_column(tables.world_params(world)) == [f.name for f in dataclasses.fields(config)]


def test_a_field_row_says_its_default_and_allowed_values():
    rows = {r.split("|")[1].strip(): r for r in tables.world_params("public_goods").splitlines()}
    field = next(f for f in dataclasses.fields(WORLDS["public_goods"][0]) if f.name == "num_agents")
    row = rows["`num_agents`"]
    assert f"`{field.default}`" in row
    if field.metadata.get("ge") is not None:
        assert f">= {field.metadata['ge']:g}" in row


def test_every_mechanism_has_its_fields_listed():
    text = tables.render("mechanisms")
    for kind, cls in MECHANISMS.items():
        section = text.split(f"### `{kind}`", 1)[1].split("### ", 1)[0]
        assert _first_column(section.strip().split("\n\n", 1)[-1]) == [
            f.name for f in dataclasses.fields(cls.Params)
        ], kind


def test_the_scenario_tables_cover_every_scenario_once():
    every = _first_column(tables.render("scenarios"))
    assert every == list(sc.list_scenarios())
    per_world = [n for w in WORLDS for n in _first_column(tables.scenarios_table(w))]
    assert sorted(per_world) == sorted(every)


def test_an_unknown_marker_or_name_is_an_error():
    with pytest.raises(KeyError, match="unknown docs table marker"):
        tables.expand("<!-- coopsim:nonsense -->")
    with pytest.raises(KeyError, match="no world 'public_good'"):
        tables.expand("<!-- coopsim:params world=public_good -->")


def test_every_marker_in_the_docs_expands():
    pages = [p for p in (ROOT / "docs").rglob("*.md") if tables.MARKER.search(p.read_text())]
    assert len(pages) >= 5
    for page in pages:
        expanded = tables.expand(page.read_text())
        assert not tables.MARKER.search(expanded), page
        assert "| field |" in expanded or "| scenario |" in expanded, page


def test_the_measures_table_lists_the_registry():
    from coopsim.measures import MEASURES

    assert _first_column(tables.render("measures")) == list(MEASURES)
