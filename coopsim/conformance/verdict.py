"""How a kit reports: one AssertionError naming the subject, the property and what differed,
or, when everything holds, a record of which properties were checked and which did not apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn


def fail(subject: str, check: str, detail: str) -> NoReturn:
    """Raise the kit's one kind of error: ``<subject>: <check>: <detail>``."""
    raise AssertionError(f"{subject}: {check}: {detail}")


@dataclass
class Conformance:
    """What a kit established about one subject (a world, or a mechanism in its worlds).

    ``skipped`` says why a property was not checked (a world that cannot replicate), so a
    test can insist that a property it cares about really ran.
    """

    subject: str
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def ok(self, check: str) -> None:
        if check not in self.passed:
            self.passed.append(check)

    def skip(self, check: str, why: str) -> None:
        self.skipped[check] = why
