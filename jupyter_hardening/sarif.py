"""``check --format sarif``: the report as a SARIF 2.1.0 log, for code scanning in CI.

Every rule is a ``reportingDescriptor`` (its docstring is the full description and the help;
``helpUri`` points at the rule's section of docs/rules.md). Each finding is a ``result`` located
where its value was set (provenance): a file and line relative to the current folder when it is
under it (``%SRCROOT%``, which code hosts map to the repository), else a ``file://`` URI; a flag
or an environment variable becomes a logical location naming it. Accepted risks are results
with an external suppression, so they stay visible without failing the scan.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from . import __version__
from .rules import RULES, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The rules' reference (docs/rules.md, one anchor per lower-case id).
DOCS_URL = "https://github.com/jupyter-hardening/jupyter_hardening/blob/main/docs/rules.md"
INFORMATION_URI = "https://github.com/jupyter-hardening/jupyter_hardening"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SRCROOT = "SRCROOT"


def rule_descriptor(rule: Any) -> dict[str, Any]:
    """The SARIF reportingDescriptor of one rule."""
    doc = inspect.cleandoc(type(rule).__doc__ or rule.summary)
    first = doc.split("\n\n", 1)[0].replace("\n", " ")
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": first},
        "help": {"text": doc, "markdown": doc},
        "helpUri": f"{DOCS_URL}#{rule.id.lower()}",
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"traits": list(rule.traits), "severity": rule.severity.label},
    }


def artifact_location(path: str, root: Path) -> dict[str, Any]:
    """An artifactLocation: relative to ``root`` (SRCROOT) when under it, else a file URI."""
    p = Path(path)
    try:
        return {"uri": p.resolve().relative_to(root.resolve()).as_posix(), "uriBaseId": SRCROOT}
    except ValueError:
        return {"uri": p.resolve().as_uri()}


def locations(item: Any, root: Path) -> list[dict[str, Any]]:
    """Where the finding's value is set: physical locations for files, logical for the rest."""
    out: list[dict[str, Any]] = []
    for source in item.where:
        if not source.wins or source.origin == "default":
            continue
        if source.file:
            physical: dict[str, Any] = {"artifactLocation": artifact_location(source.file, root)}
            if source.line:
                physical["region"] = {"startLine": source.line}
            location: dict[str, Any] = {"physicalLocation": physical}
            if source.origin in ("tornado_settings", "extension settings"):
                location["logicalLocations"] = [{"name": source.key, "kind": "member"}]
            out.append(location)
        else:
            kind = {"command line": "parameter", "environment": "variable"}.get(
                source.origin, "member"
            )
            name = source.key or source.setting
            out.append(
                {"logicalLocations": [{"name": name, "fullyQualifiedName": name, "kind": kind}]}
            )
    return out


def result(item: Any, index: dict[str, int], root: Path) -> dict[str, Any]:
    """The SARIF result of one report item."""
    f = item.finding
    res: dict[str, Any] = {
        "ruleId": f.id,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.message} Fix: {f.fix}"},
        "properties": {
            "fix": f.fix,
            "traits": list(f.traits),
            "blocksStartup": item.blocking,
            "where": [s.to_json() for s in item.where],
        },
    }
    if f.id in index:
        res["ruleIndex"] = index[f.id]
    where = locations(item, root)
    if where:
        res["locations"] = where
    if item.accepted:
        res["suppressions"] = [
            {"kind": "external", "justification": item.reason or "c.Hardening.accepted_risks"}
        ]
    return res


def sarif_log(
    reports: list[Any], root: Path | None = None, rules: tuple[Any, ...] = RULES
) -> dict[str, Any]:
    """One SARIF 2.1.0 log with one run per report (one run with no results when none);
    ``rules`` are the rules described (hub-check's and the server's for ``hub-check``)."""
    root = root or Path.cwd()
    descriptors = [rule_descriptor(rule) for rule in rules]
    index = {rule["id"]: i for i, rule in enumerate(descriptors)}
    driver = {
        "name": "jupyter_hardening",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": descriptors,
    }

    def run(report: Any | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tool": {"driver": driver},
            "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri() + "/"}},
            "results": [result(i, index, root) for i in report.items] if report else [],
            "columnKind": "unicodeCodePoints",
        }
        if report is not None:
            out["invocations"] = [
                {
                    "executionSuccessful": True,
                    "exitCode": 1 if report.verdict == "refuse" else 0,
                    "properties": {"verdict": report.verdict},
                }
            ]
        return out

    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run(r) for r in reports] or [run(None)],
    }
