"""The vocabulary every rule shares: severities, findings and the Rule base class."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..snapshot import Snapshot


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that thresholds compare."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @property
    def label(self) -> str:
        """The lower-case name used in config, logs and JSON."""
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One problem found in a snapshot: what is wrong, which traits, and the exact fix."""

    id: str
    name: str
    severity: Severity
    traits: tuple[str, ...]
    message: str
    fix: str


class Rule:
    """A pure check of a Snapshot.

    Subclasses set the class attributes and implement :meth:`check`. The class docstring is the
    rule's documentation: why it matters, the insecure example and the fix.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    traits: ClassVar[tuple[str, ...]]
    summary: ClassVar[str]

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Yield the findings of this rule for ``snap``."""
        raise NotImplementedError

    def finding(
        self,
        message: str,
        fix: str,
        *,
        traits: tuple[str, ...] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """Build a Finding of this rule."""
        return Finding(
            id=self.id,
            name=self.name,
            severity=severity or self.severity,
            traits=traits or self.traits,
            message=message,
            fix=fix,
        )
