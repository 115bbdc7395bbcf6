"""Build jupyter_hardening/data/advisories.json (OSV records) from the shared advisory snapshot.

Usage: python scripts/build_advisories.py ../shared/advisories/jupyter-advisories.json

The input lists one entry per (advisory, package) with OSV ECOSYSTEM ranges; the output merges
the entries of one id into one OSV record (osv.dev's schema) with one ``affected`` per package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).parent.parent / "jupyter_hardening" / "data" / "advisories.json"


def _time(day: str) -> str:
    return f"{day}T00:00:00Z"


def build(source: dict) -> dict:
    """The shipped snapshot: a date, its source, and OSV records."""
    records: dict[str, dict] = {}
    for entry in source["advisories"]:
        record = records.setdefault(
            entry["id"],
            {
                "schema_version": "1.6.0",
                "id": entry["id"],
                "aliases": sorted(entry["aliases"]),
                "modified": _time(entry["modified"]),
                "published": _time(entry["published"]),
                "affected": [],
                "database_specific": {
                    "severity": entry["severity"].upper(),
                    "cwe_ids": entry["cwes"],
                },
                "references": [{"type": "ADVISORY", "url": entry["url"]}],
            },
        )
        if entry.get("cvss"):
            kind = "CVSS_V4" if entry["cvss"].startswith("CVSS:4") else "CVSS_V3"
            record["severity"] = [{"type": kind, "score": entry["cvss"]}]
        affected: dict = {
            "package": {"ecosystem": "PyPI", "name": entry["package"]},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{key: value} for key, value in r.items()],
                }
                for r in entry["ranges"]
            ],
        }
        if entry["platforms"]:
            # Not an OSV field osv.dev fills; jupyter_hardening reads it to skip other platforms.
            affected["database_specific"] = {"platforms": entry["platforms"]}
        record["affected"].append(affected)
    return {
        "format": "jupyter_hardening.advisories/1",
        "date": source["generated"],
        "source": "github/advisory-database and pypa/advisory-database, gathered "
        + source["generated"],
        "advisories": sorted(records.values(), key=lambda r: (r["published"], r["id"])),
    }


if __name__ == "__main__":
    data = build(json.loads(Path(sys.argv[1]).read_text()))
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{OUT}: {len(data['advisories'])} advisories, dated {data['date']}")
