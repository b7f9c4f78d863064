"""Number boxes never revert silently: what was typed is used as typed, or refused beside it."""

from __future__ import annotations

import pytest

from coopsim.app.numbers import parse, shown


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("7", int, 7),
        (" 1_000 ", int, 1000),
        ("1e3", int, 1000),
        ("20.0", int, 20),
        ("12345678901234567890", int, 12345678901234567890),  # kept exactly, bounds are the check's
        ("1.6", float, 1.6),
        ("-0.25", float, -0.25),
        ("1e308", float, 1e308),
    ],
)
def test_numbers_are_used_exactly_as_typed(text, kind, value):
    parsed = parse(text, kind)
    assert parsed.error is None and parsed.value == value and type(parsed.value) is kind


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("1e309", float, "beyond the largest number a run can hold"),
        ("-1e400", float, "beyond the largest number"),
        ("1e309", int, "beyond the largest number"),
        ("nan", float, "not a finite number"),
        ("inf", float, "not a finite number"),
        ("-Infinity", float, "not a finite number"),
        ("", float, "empty: type a number"),
        ("   ", int, "empty: type a number"),
        ("2.5", int, "not a whole number"),
        ("lots", float, "is not a number"),
    ],
)
def test_what_cannot_be_used_is_refused_and_kept_as_typed(text, kind, words):
    parsed = parse(text, kind)
    assert parsed.error is not None and words in parsed.error
    assert parsed.value == text.strip()  # the design gets the text: its check refuses it too


def test_an_optional_box_left_empty_is_unset():
    assert parse("", float, optional=True).value is None
    assert parse("", float, optional=True).error is None


def test_a_box_shows_the_exact_value():
    for value in (0.1 + 0.2, 1e-05, 1.6, 100.0, 12345678901234567890):
        assert parse(shown(value), type(value)).value == value
    assert shown(None) == ""


def _box(at, label: str):
    found = [t for t in at.text_input if t.label == label]
    assert found, [t.label for t in at.text_input]
    return found[0]


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_the_design_page_shows_what_it_uses_or_an_error_beside_the_box(design_page):
    at = design_page("public_goods")
    _box(at, "Multiplier").set_value("1e309").run()
    assert _box(at, "Multiplier").value == "1e309"  # not put back to 1.6
    beside, check = _errors(at)
    assert "1e309 is beyond the largest number a run can hold" in beside
    assert check.startswith("error: design: world.multiplier: got '1e309'")
    assert not at.success  # no "Valid design"
    assert not any(b.label == "Save design" and not b.disabled for b in at.button)

    _box(at, "Multiplier").set_value("nan").run()
    assert "'nan' is not a finite number" in _errors(at)[0]

    _box(at, "Multiplier").set_value("").run()
    assert _box(at, "Multiplier").value == ""  # an emptied box stays empty, with an error
    assert "empty: type a number" in _errors(at)[0]
    assert at.session_state["design"]["world"]["multiplier"] == ""

    _box(at, "Multiplier").set_value("1.7").run()
    _box(at, "Num agents").set_value("12345678901234567890").run()
    assert _box(at, "Num agents").value == "12345678901234567890"
    beside, check = _errors(at)
    assert beside == "got 12345678901234567890, must be >= 2 and <= 64"  # the check's, beneath
    assert (
        check == "error: design: world.num_agents: got 12345678901234567890, must be >= 2 and <= 64"
    )

    _box(at, "Num agents").set_value("4").run()
    assert not _errors(at) and "Valid design" in at.success[0].value
    assert at.session_state["design"]["world"]["multiplier"] == 1.7


def test_every_refused_box_has_its_error_beside_it_not_only_the_first(design_page):
    at = design_page("public_goods")
    at.text_input(key="r1.world.public_goods.num_agents").set_value("12345678901234567890")
    at.text_input(key="r1.world.public_goods.rounds").set_value("0")
    at.text_input(key="r1.p0.count").set_value("2.5").run()
    shown = _errors(at)
    assert "got 12345678901234567890, must be >= 2 and <= 64" in shown
    assert any(e.startswith("got 0, must be") for e in shown)  # rounds, the second error
    assert "2.5 is not a whole number" in shown  # the group's count, its own box's error
    assert shown[-1].startswith("error: design: ")  # and the check's first error, once


def test_field_errors_walks_past_each_refused_value():
    from coopsim import scenario as sc
    from coopsim.app.state import field_errors

    data = sc.load("public_goods_matching").to_dict()
    data["world"]["multiplier"] = "1e309"
    data["mechanisms"][0]["rate"] = -3.0
    data["population"][0]["count"] = 99  # counts that do not add up: no single value to blame
    fields = [e.field for e in field_errors(data)]
    assert fields[:2] == ["world.multiplier", "mechanisms[0].rate"]
    assert data["world"]["multiplier"] == "1e309"  # the design itself is left as it was
    assert field_errors(sc.load("public_goods").to_dict()) == []
