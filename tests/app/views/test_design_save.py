"""Saving designs: two names that make one file name never replace each other silently."""

from __future__ import annotations

from coopsim import scenario as sc


def _by_label(elements, label: str):
    found = [e for e in elements if e.label == label]
    assert found, f"no widget labelled {label!r}; have {[e.label for e in elements]}"
    return found[0]


def _save_as(at, design_name: str, rounds: int):
    """Name the design, change it, and press Save with the file name the page offers."""
    at.text_input(key="r1.name").set_value(design_name).run()
    at.text_input(key="r1.world.public_goods.rounds").set_value(str(rounds)).run()
    _by_label(at.button, "Save design").click().run()
    return at


def test_empty_and_dotted_names_ask_before_replacing_and_offer_a_free_name(design_page, tmp_path):
    at = design_page("public_goods")
    designs = tmp_path / "designs"
    _save_as(at, "", rounds=7)  # the name '' makes design.toml
    assert _by_label(at.text_input, "File name").value == "design.toml"
    assert sc.load(designs / "design.toml").world.rounds == 7
    assert "Saved to <designs>/design.toml" in at.success[-1].value
    assert str(tmp_path) not in at.success[-1].value  # never the server's path

    _save_as(at, "..", rounds=9)  # the name '..' makes design.toml too: it asks
    assert sc.load(designs / "design.toml").world.rounds == 7  # not replaced
    (warning,) = [w.value for w in at.warning]
    assert "Not saved: <designs>/design.toml holds another design" in warning
    assert "design_2.toml" in warning
    _by_label(at.button, "Save as design_2.toml").click().run()
    assert sc.load(designs / "design_2.toml").world.rounds == 9
    assert sc.load(designs / "design.toml").world.rounds == 7
    assert "Saved to <designs>/design_2.toml" in at.success[-1].value
    assert not at.warning

    _save_as(at, "..", rounds=11)  # asked again; this time the person overwrites
    _by_label(at.button, "Overwrite design.toml").click().run()
    assert sc.load(designs / "design.toml").world.rounds == 11
    assert sorted(p.name for p in designs.glob("*.toml")) == ["design.toml", "design_2.toml"]


def test_saving_the_same_design_again_needs_no_question(design_page, tmp_path):
    at = design_page("public_goods")
    _save_as(at, "same", rounds=5)
    _by_label(at.button, "Save design").click().run()
    assert not at.warning and "Saved to <designs>/same.toml" in at.success[-1].value
