"""Stress settings files: ``coopsim stress``'s options as a ``[stress]`` table of TOML.

A stress test's options (which populations, how many episodes, the exploiters' sizes, budget
and start, ...) are as much a part of an experiment as its scenarios, and a command line of
eight flags is easy to mistype and hard to keep with the results. A settings file holds them::

    [stress]
    populations = ["fgf2001", "free_riders"]   # shipped names or .toml paths
    episodes = 32
    coalitions = [1, 2]
    exploiter_iterations = 30
    exploiter_start = "both"                    # fresh, replaced or both

``coopsim stress RUNS... --config FILE --out DIR`` reads it; a flag given on the command line
overrides the file's value for that option, and an option neither gives takes its default (the
defaults of :class:`StressSettings`, which are the command's). The keys are the command's
options, spelled with underscores. Run directories and the output folder stay on the command
line: the file says *how* to stress, so one file serves many sets of runs.

The file is checked on load as a scenario is (:func:`coopsim.schema.build`): an unknown key, a
value of the wrong type, a choice not offered or a number out of range is one
:class:`~coopsim.schema.ConfigError` naming the file, the field (``stress.episodes``) and what
is allowed. ``stress.json`` records the resolved settings, not the file: a folder started with
flags resumes with a file that says the same, and refuses one that does not.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coopsim.scenario import SCENARIO_DIR
from coopsim.schema import ConfigError, build, param, read_config_toml, resolve_named_file
from coopsim.stress.driver import EXPLOITER_STARTS, StressConfig
from coopsim.stress.populations import resolve_population_path

#: Where the shipped settings files live: ``scenarios/stress/`` (``--config default``).
SETTINGS_DIR = SCENARIO_DIR / "stress"
#: The one table a settings file holds.
TABLE = "stress"

_DEFAULT = StressConfig()  # the command's defaults are the driver's: one place says them


@dataclass
class StressSettings:
    """Every option of ``coopsim stress`` but the runs and the output folder, with its default.

    The field names are the command's flags without their dashes (``exploiter_iterations`` is
    ``--exploiter-iterations``), so a file, a flag and ``stress.json`` say one thing one way."""

    populations: list[str] | None = param(
        None,
        help="Population files or shipped names (populations/); left out: the shipped ones "
        "marked default_suite for the runs' world; [] for none",
    )
    partners: list[str] = param(
        default_factory=list,
        help="More run directories or glob patterns whose learners play as cross-play "
        "populations (their own rules are not stressed); relative to the current folder",
    )
    episodes: int = param(_DEFAULT.episodes, help="Evaluation episodes per population", ge=1)
    seed: int = param(_DEFAULT.seed, help="Evaluation seed (and the exploiters')", ge=0)
    coalitions: list[int] = param(
        default_factory=lambda: list(_DEFAULT.coalitions),
        help="Exploiters' sizes in seats, e.g. [1, 2]; [] for no exploiter",
        ge=1,
    )
    exploiter_iterations: int = param(
        _DEFAULT.exploiter_iterations, help="PPO iterations each exploiter trains", ge=1
    )
    exploiter_start: str = param(
        _DEFAULT.exploiter_start,
        help="How exploiters start: fresh weights, the replaced seats' own policies, or both",
        choices=EXPLOITER_STARTS,
    )
    cross_seeds: int | None = param(
        _DEFAULT.cross_seeds,
        help="Most other training seeds whose learners each run meets; left out: all",
        ge=0,
    )
    exploit_seeds: list[int] | None = param(
        None,
        help="Training seeds whose runs get exploiters, e.g. [0]; left out: every run's",
        ge=0,
    )

    def config(self) -> StressConfig:
        """The driver's config: what ``stress.json`` records under ``config``."""
        return StressConfig(
            episodes=self.episodes,
            seed=self.seed,
            coalitions=tuple(self.coalitions),
            exploiter_iterations=self.exploiter_iterations,
            cross_seeds=self.cross_seeds,
            exploit_seeds=None if self.exploit_seeds is None else tuple(self.exploit_seeds),
            exploiter_start=self.exploiter_start,
        )


#: The options a settings file may set, in the order the command lists them.
OPTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StressSettings))


def resolve_settings_path(name_or_path: str | os.PathLike) -> Path:
    """A shipped settings file's name ('default') or a path to a TOML file -> the file."""
    return resolve_named_file(name_or_path, SETTINGS_DIR, "stress setting")


def load_settings(name_or_path: str | os.PathLike) -> StressSettings:
    """Read and check a settings file (or a shipped one's name, from ``scenarios/stress/``)."""
    path = resolve_settings_path(name_or_path)
    return settings_from_dict(read_config_toml(path), source=str(path))


def settings_from_dict(data: Mapping[str, Any], source: str | None = None) -> StressSettings:
    """Plain data (a parsed file) -> :class:`StressSettings`, every problem a
    :class:`ConfigError` naming ``source`` and the dotted field.

    Population names are resolved here, so a misspelt one is refused naming this file and the
    element rather than later, by the population loader, naming only the word."""
    unknown = [key for key in data if key != TABLE]
    if unknown:
        raise ConfigError(source, unknown[0], f"unknown key; allowed top-level keys: {TABLE}")
    if TABLE not in data:
        raise ConfigError(source, TABLE, "missing; expected a [stress] table")
    settings = build(StressSettings, data[TABLE], source=source, prefix=TABLE)
    for name in ("coalitions", "exploit_seeds"):  # as the command's flags refuse repeats
        values = getattr(settings, name)
        if values is not None and len(set(values)) < len(values):
            raise ConfigError(
                source, f"{TABLE}.{name}", f"got {values!r}, the values must be distinct"
            )
    for i, name in enumerate(settings.populations or []):
        try:
            resolve_population_path(name)
        except ConfigError as err:
            raise ConfigError(
                source, f"{TABLE}.populations", f"element {i}: {name!r}: {err.problem}"
            ) from None
    return settings


def resolve(given: Mapping[str, Any], settings: StressSettings | None = None) -> StressSettings:
    """The settings a stress test runs with: ``given`` (the options typed on the command line,
    by field name) over ``settings`` (a file's, or the defaults where there is none).

    Why a flag wins: a file is the experiment's standing choice, a flag the change asked for
    this time (``--episodes 2`` for a quick look at the suite a file describes)."""
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ConfigError(None, unknown[0], f"not a stress option; options: {', '.join(OPTIONS)}")
    base = settings if settings is not None else StressSettings()
    return dataclasses.replace(base, **{k: _copy(v) for k, v in given.items()})


def _copy(value: Any) -> Any:
    """Lists copied so the resolved settings share none with the command's namespace."""
    return list(value) if isinstance(value, (list, tuple)) else value
