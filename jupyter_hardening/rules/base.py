"""The vocabulary every rule shares: severities, findings and the Rule base class."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..record import Record, field, replace

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


class Finding(Record):
    """One problem found in a snapshot: what is wrong, which traits, and the exact fix."""

    id: str
    name: str
    severity: Severity
    traits: tuple[str, ...]
    message: str
    fix: str
    # The fix as data: the snapshot fields (name, value) as they are once the fix is applied,
    # so that a test can apply it and prove it clears the finding. ACCEPTED_RISK_DROP names
    # a key of c.Hardening.accepted_risks to remove instead (the policy is not in the snapshot).
    remedy: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    # The c.Hardening.accepted_risks key that accepts this finding alone, when it is not the
    # rule id (an advisory id for JH902).
    key: str = ""


ACCEPTED_RISK_DROP = "accepted_risks.drop"
# Snapshot fields once jupyter_server generates its token (the fix "remove the empty token").
GENERATED_TOKEN: Mapping[str, Any] = {
    "auth_enabled": True,
    "token_length": 48,
    "token_bits": 192.0,
    "token_generated": True,
    "token_padded": False,
}
LOOPBACK = {"ip": "127.0.0.1", "ip_is_loopback": True}


def without_override(snap: Snapshot, key: str) -> tuple[tuple[str, str], ...]:
    """``snap.tornado_overrides`` once ``key`` is removed where it overrides the trait."""
    return tuple((k, source) for k, source in snap.tornado_overrides if k != key)


def apply_remedy(
    snap: Snapshot, accepted: Mapping[str, str], finding: Finding
) -> tuple[Snapshot, dict[str, str]]:
    """The snapshot and accepted risks as they are after ``finding``'s fix is applied."""
    changes = dict(finding.remedy)
    accepted = dict(accepted)
    if ACCEPTED_RISK_DROP in changes:
        accepted.pop(changes.pop(ACCEPTED_RISK_DROP), None)
    return replace(snap, **changes), accepted


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

    def check_accepting(self, snap: Snapshot, accepted: Mapping[str, str]) -> Iterator[Finding]:
        """:meth:`check`, for the policy; a rule whose findings can be accepted in parts (an
        advisory by its id) overrides it."""
        return self.check(snap)

    def finding(
        self,
        message: str,
        fix: str,
        *,
        traits: tuple[str, ...] | None = None,
        severity: Severity | None = None,
        remedy: Mapping[str, Any] | None = None,
        key: str = "",
    ) -> Finding:
        """Build a Finding of this rule; ``remedy`` is ``fix`` as snapshot changes."""
        return Finding(
            id=self.id,
            name=self.name,
            severity=severity or self.severity,
            traits=traits or self.traits,
            message=message,
            fix=fix,
            remedy=tuple((remedy or {}).items()),
            key=key,
        )


class Described:
    """A finding kind judged from something other than the snapshot (the requests the server
    sees, an nginx file). Declared like a Rule, and documented the same way: the class
    docstring holds why it matters, the broken example and the fix."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    traits: ClassVar[tuple[str, ...]]
    summary: ClassVar[str]
    # Other names its findings carry (a variant of the same fault, gixy's plugin names).
    aliases: ClassVar[tuple[str, ...]] = ()
