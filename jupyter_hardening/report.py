"""Findings plus policy make a Report: the one object logged, refused on, served and printed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from . import __version__
from .printable import printable
from .record import Record
from .rules import Finding, Rule, Severity, rules_for, rules_of
from .rules.meta import UnknownAcceptedRisk
from .snapshot import Snapshot

REFUSE_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "never": None}


class Item(Record):
    """A finding as the policy sees it: accepted or not, and whether it blocks startup."""

    finding: Finding
    accepted: bool = False
    reason: str = ""
    blocking: bool = False
    # Where the values of the finding's settings come from (provenance.Source), winner first.
    where: tuple[Any, ...] = ()

    @property
    def location(self) -> Any:
        """The first source with a place (a file, a flag, a variable), or None."""
        return next((s for s in self.where if s.wins and s.origin != "default"), None)

    def to_json(self) -> dict[str, Any]:
        """The finding in the report schema."""
        f = self.finding
        return {
            "id": f.id,
            "name": f.name,
            "severity": f.severity.label,
            "traits": list(f.traits),
            "message": f.message,
            "fix": f.fix,
            "accepted": self.accepted,
            "reason": self.reason,
            "where": [source.to_json() for source in self.where],
        }


class Report(Record):
    """The verdict on one snapshot under one policy."""

    items: tuple[Item, ...]
    verdict: str
    refuse_at: str
    snapshot: Snapshot
    computed_at: dt.datetime
    # {setting: (provenance.Source, ...)} for the settings of the report, winner first.
    settings_where: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def blocking(self) -> tuple[Item, ...]:
        """Items that stop the server."""
        return tuple(i for i in self.items if i.blocking)

    def counts(self) -> dict[str, int]:
        """Findings per severity, accepted ones left out, plus the number accepted."""
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for item in self.items:
            if not item.accepted:
                counts[item.finding.severity.label] += 1
        counts["accepted"] = sum(i.accepted for i in self.items)
        return counts

    def to_json(self) -> dict[str, Any]:
        """The JSON report served by /hardening and printed by ``check --format json``."""
        return {
            "version": __version__,
            "verdict": self.verdict,
            "findings": [i.to_json() for i in self.items],
            "counts": self.counts(),
            "refuse_at": self.refuse_at,
            "computed_at": self.computed_at.isoformat(timespec="seconds"),
            "settings": self.snapshot.settings(),
            "where": {
                name: [source.to_json() for source in sources]
                for name, sources in self.settings_where
            },
        }


def run_rules(
    snap: Snapshot,
    accepted: Mapping[str, str] | None = None,
    rules: tuple[Rule, ...] | None = None,
) -> list[Finding]:
    """All findings of ``rules`` (the server's: those that can find something in ``snap``),
    worst first, in registry order within a severity."""
    if rules is None:
        rules = rules_for(snap)
    findings = [f for rule in rules for f in rule.check_accepting(snap, accepted or {})]
    if snap.hub is not None:
        from .rules.hub import where_in_hub

        findings = [where_in_hub(f) for f in findings]
    return sorted(findings, key=lambda f: -f.severity)


def evaluate(
    snap: Snapshot,
    refuse_at: str = "error",
    accepted: dict[str, str] | None = None,
    rules: tuple[Rule, ...] | None = None,
) -> Report:
    """Apply the policy to the findings of ``rules`` (the server's; hub-check passes the hub's)."""
    accepted = accepted or {}
    if rules is None:
        rules = rules_for(snap)
    findings = run_rules(snap, accepted, rules)
    meta = next(rule for rule in rules_of("meta") if isinstance(rule, UnknownAcceptedRisk))
    # A key is a rule id (live and nginx-check ids too: they are accepted where they are found),
    # or an advisory id or alias of the advisory snapshot in use (JH902).
    if accepted:
        from .rules import KNOWN_IDS  # made on first use: most servers accept no risk

        known_advisories = snap.advisories.known_ids
        findings += [
            meta.unknown(rule_id)
            for rule_id in sorted(accepted)
            if rule_id not in KNOWN_IDS
            and rule_id not in {rule.id for rule in rules}
            and rule_id.upper() not in known_advisories
        ]
    findings.sort(key=lambda f: -f.severity)
    threshold = REFUSE_LEVELS[refuse_at]
    items = []
    for f in findings:
        key = f.id if f.id in accepted else (f.key if f.key and f.key in accepted else "")
        is_accepted = bool(key)
        blocking = not is_accepted and threshold is not None and f.severity >= threshold
        items.append(Item(f, is_accepted, accepted.get(key, ""), blocking))
    if any(i.blocking for i in items):
        verdict = "refuse"
    elif any(not i.accepted and i.finding.severity >= Severity.WARNING for i in items):
        verdict = "warn"
    else:
        verdict = "ok"
    return Report(tuple(items), verdict, refuse_at, snap, dt.datetime.now(dt.timezone.utc))


def accept_hint(items: tuple[Item, ...]) -> str:
    """The config line that accepts the given findings instead of fixing them."""
    # A rule can fire more than once (JH401 for the certificate and the key): one key each.
    ids = dict.fromkeys(i.finding.id for i in items)
    risks = ", ".join(f"'{rule_id}': '<why this is acceptable here>'" for rule_id in ids)
    return f"c.Hardening.accepted_risks = {{{risks}}}"


def render_text(report: Report, headlines: Mapping[str, str] | None = None) -> str:
    """The human-readable report printed by ``jupyter hardening check`` (and ``hub-check``,
    with its own ``headlines`` by verdict)."""
    counts = report.counts()
    headline = (
        headlines
        or {
            "ok": "OK: the server would start; nothing to fix",
            "warn": "WARN: the server would start, with findings to fix",
            "refuse": "REFUSE: the server would not start",
        }
    )[report.verdict]
    summary = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info"))
    lines = [
        f"jupyter_hardening {__version__}: {headline} ({summary}, {counts['accepted']} accepted)"
    ]
    for item in report.items:
        f = item.finding
        tag = (
            " [accepted: " + item.reason + "]"
            if item.accepted
            else (" [blocks startup]" if item.blocking else "")
        )
        where = item.location
        place = f"{where.label()}: " if where is not None else ""
        lines += [
            "",
            f"{place}{f.severity.label.upper():8}{f.id} {f.name}{tag}",
            f"        {f.message}",
            f"        traits: {', '.join(f.traits)}",
            f"        fix: {f.fix}",
        ]
        others = [s.label() for s in item.where if not s.wins]
        if where is not None and others:
            lines.append(f"        also set at: {', '.join(others)} (overridden)")
    if report.blocking:
        lines += [
            "",
            "Hint: fix the settings above, or accept the risk with:",
            "  " + accept_hint(report.blocking),
        ]
    return printable("\n".join(lines))
