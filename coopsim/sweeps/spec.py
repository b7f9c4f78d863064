"""What a sweep varies: fields of a scenario, the values each takes, and the cells they make.

A field is a dotted path into the scenario's plain data (``mechanisms.0.rate``,
``world.multiplier``, ``training.learning_rate``; ``mechanisms[0].rate`` is read the same). A
sweep is either a full grid (every combination of every field's values) or ``samples`` random
draws (a field drawn uniformly, or log-uniformly, between two bounds, or chosen from a list),
reproducible from the sweep's own ``seed``.

Each cell is the base scenario with its values installed, validated by the same loader that
checks scenario files (the parameter schema: finite numbers within each field's bounds), so a
bad field or value, a NaN or an overflowing number among them, is refused before anything runs
or any folder is made, in one message naming the field and the value. A cell's folder name comes from its values (a readable slug
and a short hash), not from its place in the grid, so a sweep extended by a value or a seed
reuses every cell it already finished.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopsim.files import TOMLDecodeError, loads_toml
from coopsim.paths import slug
from coopsim.schema import ConfigError, read_config_toml

WHERE = "sweep"  # how messages name a problem in the sweep itself rather than a scenario file
_INDEX = re.compile(r"\[(\d+)\]")


def normalise_field(path: str) -> str:
    """``mechanisms[0].rate`` and ``mechanisms.0.rate`` are one field: the dotted form."""
    return _INDEX.sub(r".\1", path.strip()).strip(".")


def parse_value(text: str) -> Any:
    """A command-line value read as TOML (``0.5``, ``3``, ``true``, ``"x"``); else a string."""
    try:
        return loads_toml(f"v = {text}")["v"]
    except TOMLDecodeError:
        return text.strip()


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``--set FIELD=V1,V2,...`` -> (field, values)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise ConfigError(WHERE, "--set", f"got {text!r}, expected FIELD=VALUE[,VALUE...]")
    parsed = [parse_value(v) for v in _split_top_level(values) if v.strip()]
    return normalise_field(name), parsed


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets, so a list value stays whole: ``[0,0.2],[0.1,0.3]``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


@dataclass(frozen=True)
class RandomField:
    """How one field is drawn in a random sweep: between bounds, or from a list."""

    low: float | None = None
    high: float | None = None
    log: bool = False  # draw log-uniformly (a learning rate, say)
    integer: bool = False  # round the draw to an integer
    choices: tuple[Any, ...] | None = None

    def draw(self, rng: np.random.Generator) -> Any:
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        low, high = float(self.low), float(self.high)
        if self.log:
            value = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        else:
            value = float(rng.uniform(low, high))
        return round(value) if self.integer else value


@dataclass(frozen=True)
class Cell:
    """One combination of values: what it sets, and the folder its runs live in."""

    values: dict[str, Any]  # field -> value, in the sweep's field order

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.values.items())

    @property
    def name(self) -> str:
        """``<slug of the values>-<hash>``: readable, and unique to exactly these values."""
        canonical = json.dumps(self.values, sort_keys=True, default=str)
        digest = hashlib.sha1(canonical.encode()).hexdigest()[:8]
        text = "_".join(f"{k.split('.')[-1]}_{v}" for k, v in self.values.items())
        return f"{slug(text, fallback='cell', max_length=60)}-{digest}"


@dataclass
class SweepSpec:
    """The fields a sweep varies and how: a grid, or ``samples`` random draws."""

    grid: dict[str, list[Any]] = field(default_factory=dict)  # field -> values
    random: dict[str, RandomField] = field(default_factory=dict)  # field -> how it is drawn
    samples: int = 0  # random draws (with ``random``)
    seed: int = 0  # seeds the random draws
    seeds: list[int] = field(default_factory=lambda: [0])  # training/evaluation seeds per cell

    @property
    def fields(self) -> list[str]:
        return [*self.grid, *self.random]

    def cells(self) -> list[Cell]:
        """Every cell: the grid's product, each crossed with the random draws if any."""
        names = list(self.grid)
        combos = [dict(zip(names, vs)) for vs in itertools.product(*self.grid.values())]
        if not self.random:
            return [Cell(c) for c in combos]
        rng = np.random.default_rng(self.seed)
        draws = [{k: f.draw(rng) for k, f in self.random.items()} for _ in range(self.samples)]
        return [Cell({**c, **d}) for c in combos for d in draws]


def seeds_from(value: Any, where: str) -> list[int]:
    """``4`` means seeds 0-3; a list names them."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return list(range(value))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
        and len(set(value)) == len(value)
    ):
        return list(value)
    raise ConfigError(WHERE, where, f"got {value!r}, expected a count >= 1 or distinct seeds >= 0")


def parse_seeds(text: str) -> list[int]:
    """``--seeds 4`` (seeds 0-3) or ``--seeds 0,2,5``."""
    value: Any = [parse_value(s) for s in text.split(",")] if "," in text else parse_value(text)
    return seeds_from(value, "--seeds")


def _random_field(name: str, data: Any) -> RandomField:
    where = f"sweep.random.{name}"
    if isinstance(data, list) and data:
        return RandomField(choices=tuple(data))
    if not isinstance(data, dict):
        raise ConfigError(WHERE, where, f"got {data!r}, expected a list or {{low, high}}")
    unknown = set(data) - {"low", "high", "log", "integer"}
    if unknown:
        raise ConfigError(
            WHERE, f"{where}.{sorted(unknown)[0]}", "unknown key; allowed: low, high, log, integer"
        )
    low, high = data.get("low"), data.get("high")
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in (low, high)
    )  # a NaN end would draw NaN for every cell; an infinite one, NaN or inf
    if not numbers or low >= high or (data.get("log") and low <= 0):
        raise ConfigError(
            WHERE,
            where,
            f"got low={low!r}, high={high!r}: need finite numbers low < high (> 0 if log)",
        )
    return RandomField(low, high, bool(data.get("log")), bool(data.get("integer")))


def spec_from_table(table: Any) -> SweepSpec:
    """A ``[sweep]`` table: ``seeds``, ``[sweep.grid]`` field -> values, and/or
    ``[sweep.random]`` with ``samples``, ``seed`` and field -> list or {low, high, log, integer}."""
    if not isinstance(table, dict):
        raise ConfigError(WHERE, "sweep", f"got {table!r}, expected a table")
    unknown = set(table) - {"seeds", "grid", "random", "scenario"}
    if unknown:
        raise ConfigError(
            WHERE,
            f"sweep.{sorted(unknown)[0]}",
            "unknown key; allowed: scenario, seeds, grid, random",
        )
    spec = SweepSpec(seeds=seeds_from(table.get("seeds", 1), "sweep.seeds"))
    for name, values in table.get("grid", {}).items():
        if not isinstance(values, list) or not values:
            raise ConfigError(WHERE, f"sweep.grid.{name}", f"got {values!r}, expected a list")
        spec.grid[normalise_field(name)] = values
    random = dict(table.get("random", {}))
    if random:
        samples = random.pop("samples", None)
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise ConfigError(WHERE, "sweep.random.samples", f"got {samples!r}, need a count >= 1")
        spec.samples, spec.seed = samples, random.pop("seed", 0)
        spec.random = {normalise_field(k): _random_field(k, v) for k, v in random.items()}
    return spec


# -- installing a cell's values in a scenario ------------------------------------------------
def _container(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The dict or list holding ``path``'s last part, and that part; a missing step is named."""
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        at = "" if here == path else f"{here}: "
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    WHERE,
                    path,
                    f"{at}no such entry; the list has {len(node)} (0-{len(node) - 1})",
                )
            key: str | int = int(part)
        elif isinstance(node, dict):
            if part not in node:
                allowed = ", ".join(k for k in node if k not in ("name", "description")) or "none"
                raise ConfigError(WHERE, path, f"{at}no such field; allowed here: {allowed}")
            key = part
        else:
            raise ConfigError(WHERE, path, f"{'.'.join(parts[:depth])} is a value, not a table")
        if last:
            return node, key
        node = node[key]
    raise ConfigError(WHERE, path, "empty field")  # pragma: no cover - split never gives []


def cell_data(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The base scenario's plain data with ``values`` installed."""
    data = copy.deepcopy(base)
    for path, value in values.items():
        holder, key = _container(data, path)
        now = holder[key]
        if isinstance(now, dict) or (
            isinstance(now, list) and any(isinstance(v, dict) for v in now)
        ):
            raise ConfigError(
                WHERE, path, "is a table or a list of tables; sweep one of its fields"
            )
        holder[key] = value
    return data


def cell_scenario(base: dict[str, Any], cell: Cell, source: str | None = None):
    """The cell's scenario, checked by the scenario loader; a refusal names field and value."""
    from coopsim.scenario import from_dict

    data = cell_data(base, cell.values)
    try:
        return from_dict(data, source=source)
    except ConfigError as err:
        raise ConfigError(
            WHERE, err.field, f"{err.problem} (in the sweep's cell {cell.label})"
        ) from None


def load_base(name_or_path: str | os.PathLike) -> tuple[Any, SweepSpec | None]:
    """A scenario name or file -> (the base scenario, its ``[sweep]`` table's spec or None).

    A scenario file may carry a ``[sweep]`` table; a file holding only ``[sweep]`` names its
    base with ``scenario = "name or path"``.
    """
    from coopsim import scenario as sc

    path = sc.resolve_path(name_or_path)
    data = read_config_toml(path)
    table = data.pop("sweep", None)
    spec = spec_from_table(table) if table is not None else None
    if table is not None and "scenario" in table:
        if set(data):
            raise ConfigError(
                str(path), "sweep.scenario", "names a base scenario, so the file holds no other"
            )
        return sc.load(table["scenario"]), spec
    return sc.from_dict(data, source=str(path), default_name=path.stem), spec
