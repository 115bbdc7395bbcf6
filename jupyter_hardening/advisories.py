"""Known advisories for the installed packages: an OSV snapshot shipped in the package, or a
newer one installed with ``jupyter hardening advisories --update``. Never any network access.

The snapshot is one JSON file: ``{"format", "date", "source", "advisories": [OSV records]}``.
Versions are compared with ``packaging.version``, never as strings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .record import Record, as_dict, field
from .safefile import KIB, read_bounded

FORMAT = "jupyter_hardening.advisories/1"
SHIPPED = Path(__file__).parent / "data" / "advisories.json"
FILE_NAME = "advisories.json"  # in jupyter_data_dir()/hardening/
STALE_DAYS = 90
SEVERITIES = ("CRITICAL", "HIGH", "MODERATE", "LOW")
EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
SNAPSHOT_LIMIT = 16 * KIB * KIB  # the shipped one is ~84 KiB; an update keeps Jupyter's packages
CACHE_NAME = "jupyter_hardening-advisories.json"  # in the server's runtime folder
CACHE_LIMIT = KIB * KIB
_CACHE_FORMAT = "jupyter_hardening.advisories-match/2"


# Records (record.py), not dataclasses or NamedTuples: this module is imported at every start.
class Advisory(Record):
    """One advisory that applies to one installed package version."""

    id: str
    aliases: tuple[str, ...]
    severity: str  # CRITICAL, HIGH, MODERATE, LOW or UNKNOWN
    affected: str  # the range the installed version falls in, e.g. '>=4.0.0, <4.1.1'
    fixed: str  # the lowest version above the installed one that fixes it, '' if none
    platforms: tuple[str, ...] = ()  # e.g. ('windows',): applies only there


class VulnerablePackage(Record):
    """An installed package and the advisories its version is affected by."""

    name: str
    version: str
    advisories: tuple[Advisory, ...]
    fix_version: str = ""  # the lowest version that fixes every advisory, '' if none does


class SnapshotInfo(Record):
    """Which advisory snapshot the audit used."""

    kind: str = ""  # 'shipped' or 'installed'; '' when none could be read
    path: str = ""
    date: dt.date | None = None
    source: str = ""
    count: int = 0
    known_ids: frozenset[str] = field(default_factory=frozenset)  # ids and aliases, upper case
    problem: str = ""  # why the installed snapshot was not used

    def describe(self) -> str:
        """Which snapshot, of when: 'shipped, dated 2026-12-01, 90 advisories'."""
        if not self.kind:
            return "none readable" + (f" ({self.problem})" if self.problem else "")
        where = f" at {self.path}" if self.kind == "installed" else ""
        return f"{self.kind}{where}, dated {self.date}, {self.count} advisories"


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else [] (hand-edited records must not crash the audit)."""
    return value if isinstance(value, list) else []


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    if "_" not in name and "." not in name and "--" not in name:
        return name.lower()  # already normalized but for case: most names, without a regex
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_path() -> Path:
    """Where ``--update`` installs a snapshot: the user's Jupyter data dir."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "hardening" / FILE_NAME


class SnapshotError(ValueError):
    """A file that is not a usable advisory snapshot."""


def parse_snapshot(data: Any) -> tuple[dt.date, str, list[dict[str, Any]]]:
    """(date, source, records) of a snapshot document, or SnapshotError naming the problem.

    A record that matching would skip, being of the wrong shape, makes the whole file unusable
    (the report says so: JH903): choose() would otherwise prefer a newer snapshot that hides
    advisories without a word.
    """
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise SnapshotError(f"not a jupyter_hardening advisory snapshot (format {FORMAT!r})")
    try:
        date = dt.date.fromisoformat(data["date"])
    except (KeyError, ValueError, TypeError):
        raise SnapshotError("its 'date' is not a date (YYYY-MM-DD)") from None
    records = data.get("advisories")
    if not isinstance(records, list):
        raise SnapshotError("its 'advisories' is not a list of OSV records")
    for i, record in enumerate(records):
        problem = record_problem(record)
        if problem:
            raise SnapshotError(f"advisories[{i}] {problem}")
    return date, str(data.get("source", "")), records


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def record_problem(record: Any) -> str:
    """Why an OSV record cannot be matched as it is ('affected[0].ranges[0]: its events are
    not a list of objects'), or ''. What matching reads: the id, aliases, and each affected
    package's name, ranges and versions."""
    if not isinstance(record, Mapping) or not isinstance(record.get("id"), str):
        return "is not an OSV record (an object with a string 'id')"
    name = record["id"]
    if not _strings(record.get("aliases", [])):
        return f"({name}): 'aliases' is not a list of strings"
    affected = record.get("affected", [])
    if not isinstance(affected, list):
        return f"({name}): 'affected' is not a list"
    for i, entry in enumerate(affected):
        where = f"({name}): affected[{i}]"
        if not isinstance(entry, Mapping):
            return f"{where} is not an object"
        package = entry.get("package", {})
        if not isinstance(package, Mapping) or not all(
            isinstance(package.get(k, ""), str) for k in ("name", "ecosystem")
        ):
            return f"{where}: 'package' is not an object with a string name and ecosystem"
        if not _strings(entry.get("versions", [])):
            return f"{where}: 'versions' is not a list of strings"
        ranges = entry.get("ranges", [])
        if not isinstance(ranges, list):
            return f"{where}: 'ranges' is not a list"
        for j, span in enumerate(ranges):
            events = span.get("events") if isinstance(span, Mapping) else None
            if not isinstance(events, list) or not all(
                isinstance(e, Mapping)
                and len(e) == 1
                and all(isinstance(v, str) for v in e.values())
                for e in events
            ):
                return f"{where}.ranges[{j}]: 'events' is not a list of {{kind: version}} objects"
    return ""


@functools.cache
def _read(path: str, mtime_ns: int) -> tuple[dt.date, str, tuple[dict[str, Any], ...]]:
    """Parse a snapshot file once (per modification)."""
    data = read_bounded(path, SNAPSHOT_LIMIT).decode("utf-8")
    date, source, records = parse_snapshot(json.loads(data))
    return date, source, tuple(records)


def load(path: Path) -> tuple[dt.date, str, tuple[dict[str, Any], ...]]:
    """The parsed snapshot at ``path`` (cached)."""
    return _read(str(path), path.stat().st_mtime_ns)


def choose() -> tuple[SnapshotInfo, tuple[dict[str, Any], ...]]:
    """The newest of the shipped and the installed snapshot (the installed one on a tie)."""
    problem = ""
    candidates = []
    installed = installed_path()
    if installed.exists():
        try:
            candidates.append(("installed", installed, *load(installed)))
        except (OSError, ValueError) as e:  # JSONDecodeError and SnapshotError are ValueErrors
            problem = f"{installed} is unusable ({e}); the shipped snapshot is used"
    try:
        candidates.append(("shipped", SHIPPED, *load(SHIPPED)))
    except (OSError, ValueError) as e:
        problem = (problem + "; " if problem else "") + f"the shipped snapshot is unusable ({e})"
    if not candidates:
        return SnapshotInfo(problem=problem), ()
    kind, path, date, source, records = max(candidates, key=lambda c: (c[2], c[0] == "installed"))
    return (
        SnapshotInfo(kind, str(path), date, source, len(records), _known_ids(records), problem),
        records,
    )


def _known_ids(records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    ids: set[str] = set()
    for record in records:
        if not isinstance(record, Mapping):
            continue
        ids.add(str(record.get("id", "")).upper())
        ids.update(str(a).upper() for a in _list(record.get("aliases")))
    return frozenset(ids)


@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Any:
    """A packaging Version, or None for what PEP 440 cannot read (parsed once per text)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _in_range(version: Any, events: list[Mapping[str, Any]]) -> tuple[bool, str, str]:
    """(affected, range text, fix) by OSV's algorithm for ECOSYSTEM events.

    The fix is a fixed version ('4.2.0'), '>' and the last affected version ('>2.17.0'), or ''
    when no release fixes it."""
    zero = _version("0")
    parsed = []
    for event in events:
        if not isinstance(event, Mapping) or len(event) != 1:
            continue
        ((kind, value),) = event.items()
        v = zero if kind == "introduced" and str(value) == "0" else _version(str(value))
        if v is None or kind not in ("introduced", "fixed", "last_affected"):
            return False, "", ""  # a range we cannot read: no claim either way
        parsed.append((v, kind, str(value)))
    parsed.sort(key=lambda p: p[0])
    affected, low, fixed = False, "", ""
    for v, kind, text in parsed:
        if kind == "introduced" and version >= v:
            affected, low = True, text
        elif (kind == "fixed" and version >= v) or (kind == "last_affected" and version > v):
            affected = False
    if not affected:
        return False, "", ""
    upper = ""
    for v, kind, text in parsed:
        if v > version and kind == "fixed":
            fixed, upper = text, f"<{text}"
            break
        if v >= version and kind == "last_affected":
            fixed, upper = f">{text}", f"<={text}"
            break
    lower = "" if low in ("", "0") else f">={low}"
    return True, ", ".join(p for p in (lower, upper) if p) or "all versions", fixed


def _severity(record: Mapping[str, Any]) -> str:
    specific = record.get("database_specific")
    value = str(specific.get("severity", "")).upper() if isinstance(specific, Mapping) else ""
    value = {"MEDIUM": "MODERATE"}.get(value, value)
    return value if value in SEVERITIES else "UNKNOWN"


def _matches(
    record: Mapping[str, Any], name: str, version: Any
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    for affected in _list(record.get("affected")):
        if not isinstance(affected, Mapping):
            continue
        package = affected.get("package")
        if not isinstance(package, Mapping) or package.get("ecosystem") != "PyPI":
            continue
        if normalize(str(package.get("name", ""))) != name:
            continue
        specific = affected.get("database_specific")
        platforms = tuple(
            str(p).lower()
            for p in (_list(specific.get("platforms")) if isinstance(specific, Mapping) else [])
        )
        # Ranges first: str() of a Version is built anew on every call.
        if not affected.get("ranges") and str(version) in map(str, _list(affected.get("versions"))):
            yield f"=={version}", "", platforms
            continue
        for r in _list(affected.get("ranges")):
            if isinstance(r, Mapping) and r.get("type") == "ECOSYSTEM":
                hit, text, fixed = _in_range(version, _list(r.get("events")))
                if hit:
                    yield text, fixed, platforms


def _fix_version(version: Any, records: list[Mapping[str, Any]], name: str) -> str:
    """The lowest version spec above ``version`` that none of ``records`` affects ('4.2.0',
    or '>2.17.0' when only a last affected version is known), or '' when none is known."""
    candidate, after = version, False
    for _ in range(50):  # each step moves to a later version; a handful at most
        hits = [fix for r in records for _, fix, _p in _matches(r, name, candidate)]
        if after:  # candidate is a last affected version: releases after it are what counts
            hits = [fix for fix in hits if fix != f">{candidate}"]
        if not hits:
            if candidate is version:
                return ""
            return f">{candidate}" if after else str(candidate)
        if "" in hits:
            return ""  # an advisory that no release fixes yet
        best = max(hits, key=lambda f: (_version(f.lstrip(">")), f.startswith(">")))
        candidate, after = _version(best.lstrip(">")), best.startswith(">")
    return ""


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """{normalized name: version} of the distributions installed under ``names``.

    Finds the ``.dist-info``/``.egg-info`` folders on sys.path by name (the first one wins, as
    for imports) and reads the Version header of only those, stopping there:
    importlib.metadata.version() parses the whole METADATA file as e-mail (long descriptions
    included), ~8 ms for eight packages; reading every distribution's metadata costs ~200 ms.
    """
    return _installed(names)[0]


def _installed(names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """installed_versions(names), and every metadata folder it read (a version or not)."""
    wanted = set(names)
    found: dict[str, str] = {}
    consulted = []
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")  # noqa: PTH208 - names only, no Path per entry
        except OSError:
            continue
        for item in listing:
            if not item.endswith("-info"):
                continue  # most entries: a cheap test before splitting
            stem, dot, suffix = item.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or not dot:
                continue
            name = normalize(stem.split("-", 1)[0])
            if name in wanted and name not in found:
                folder = os.path.join(entry or ".", item)  # noqa: PTH118
                consulted.append(folder)
                version = _version_header(folder)
                if version:
                    found[name] = version
    return found, consulted


def _version_header(folder: str) -> str:
    r"""The value of the first ``Version:`` header of the folder's METADATA (or PKG-INFO), as re
    ``^Version:[ \t]*(\S+)`` in the headers; '' when there is none. Reads up to that line."""
    for file_name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, file_name), encoding="utf-8", errors="replace") as f:  # noqa: PTH118, PTH123
                for number, line in enumerate(f):
                    if not line.strip() or number > 1000:
                        break  # the headers end at the first blank line
                    if line.startswith("Version:"):
                        value = line[8:].lstrip(" \t")
                        if value and not value[0].isspace():
                            return value.split(None, 1)[0]
        except OSError:
            continue
        return ""
    return ""


# sys.platform for the platform names advisories use.
PLATFORMS = {"windows": "win32", "linux": "linux", "macos": "darwin", "darwin": "darwin"}


def match(
    records: Iterable[Mapping[str, Any]], versions: Mapping[str, str], platform: str = sys.platform
) -> tuple[VulnerablePackage, ...]:
    """The packages of ``versions`` (normalized name -> version) that advisories affect on
    ``platform`` (a ``sys.platform`` value): an advisory for Windows only is left out elsewhere."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if not isinstance(record, Mapping):
            continue
        for affected in _list(record.get("affected")):
            package = affected.get("package") if isinstance(affected, Mapping) else None
            if isinstance(package, Mapping) and package.get("ecosystem") == "PyPI":
                name = normalize(str(package.get("name", "")))
                listed = by_name.setdefault(name, []) if name in versions else None
                # Once per record (by identity: == would compare whole records; a copy of a
                # record has its id, and is skipped below as already seen).
                if listed is not None and (not listed or listed[-1] is not record):
                    listed.append(record)
    found = []
    for name, recs in sorted(by_name.items()):
        version = _version(str(versions[name]))
        if version is None:
            continue
        advisories = []
        applying = []
        seen: set[str] = set()
        # osv.dev's export holds a GHSA record and a PYSEC record for one advisory, each naming
        # the other as an alias: report it once, from the GHSA record (it carries the severity).
        recs.sort(key=lambda r: not str(r.get("id", "")).startswith("GHSA-"))
        for record in recs:
            names = {str(record.get("id", "")), *map(str, _list(record.get("aliases")))}
            if record.get("withdrawn") or names & seen:
                continue
            hits = [
                hit
                for hit in _matches(record, name, version)
                if not hit[2] or platform in {PLATFORMS.get(p, p) for p in hit[2]}
            ]
            if not hits:
                continue
            text, fixed, platforms = hits[0]
            seen.update(names)
            applying.append(record)
            advisories.append(
                Advisory(
                    id=str(record.get("id", "")),
                    aliases=tuple(str(a) for a in _list(record.get("aliases"))),
                    severity=_severity(record),
                    affected=text,
                    fixed=fixed,
                    platforms=platforms,
                )
            )
        if advisories:
            found.append(
                VulnerablePackage(
                    name, versions[name], tuple(advisories), _fix_version(version, applying, name)
                )
            )
    return tuple(found)


def package_names(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """The normalized PyPI names that ``records`` mention."""
    names = set()
    for record in records:
        if not isinstance(record, Mapping):
            continue
        for affected in _list(record.get("affected")):
            package = affected.get("package") if isinstance(affected, Mapping) else None
            if isinstance(package, Mapping) and package.get("ecosystem") == "PyPI":
                names.add(normalize(str(package.get("name", ""))))
    return names


def audit(cache_dir: str = "") -> tuple[SnapshotInfo, tuple[VulnerablePackage, ...]]:
    """The snapshot in use and the installed packages it finds vulnerable on this platform.

    With ``cache_dir`` (a server's runtime folder), the result is kept in a file there and
    reused while everything it is a function of is unchanged: both snapshots, the installed
    version of every package they name, the platform, and this module's own file and version.
    A start then skips parsing the snapshot and matching it, ~5 ms of a server's start (issue
    11). Files are known unchanged by their :func:`_stamp` (as Python knows a ``.pyc`` still
    matches its source), or by their bytes while a stamp cannot tell yet; the installed
    versions by the stamps of every sys.path folder and metadata file they were read from (an
    install, upgrade or removal changes a folder), else read anew. A cache file that is not this
    user's own regular file, that others could write, or that does not parse is ignored and
    rewritten; failing to write it changes nothing but the time.
    """
    # Ownership is what makes the file trustworthy: without uids (Windows), no cache.
    key = _cache_key() if cache_dir and hasattr(os, "geteuid") else ""
    cache = os.path.join(cache_dir, CACHE_NAME) if key else ""  # noqa: PTH118
    if cache:
        kept = _read_cache(cache, key)
        if kept is not None:
            names, versions, folders, stamps, result = kept
            if stamps is not None and stamps == _install_stamps(folders):
                return result
            now, folders = _installed(names)
            if now == versions:
                if stamps != (fresh := _install_stamps(folders)) and fresh is not None:
                    _write_cache(cache, key, names, versions, folders, fresh, result)
                return result
    info, records = choose()
    names = sorted(package_names(records))
    versions, folders = _installed(names) if records else ({}, [])
    found = match(records, versions) if records else ()
    if cache:
        stamps = _install_stamps(folders)
        _write_cache(cache, key, names, versions, folders, stamps, (info, found))
    return info, found


# A file changed this recently may change again without its stamp changing (timestamps are
# coarse on some file systems): its stamp is not trusted yet, as git treats a "racy" index.
_RACY_NS = 3_000_000_000


def _stamp(path: Any) -> list[int] | None:
    """[device, inode, size, mtime, ctime] of ``path`` (ns); None when it cannot be stat'ed or
    changed too recently to tell a later change by its stamp. Any write or replacement changes
    the ctime, which no user can set back."""
    import time

    try:
        st = os.stat(path)  # noqa: PTH116 - sys.path entries may be str or Path
    except (OSError, TypeError, ValueError):
        return None
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < _RACY_NS:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _install_stamps(folders: Iterable[str]) -> list[Any] | None:
    """The stamps :func:`_installed` depends on: each sys.path folder (its listing), and each
    metadata folder it read with its METADATA and PKG-INFO. None when one cannot tell."""
    stamps: list[Any] = []
    for entry in sys.path:
        stamp = _stamp(entry or ".")
        if stamp is None and os.path.exists(entry or "."):  # noqa: PTH110
            return None  # there, but too recent (or odd) to be judged by its stamp
        stamps.append([str(entry), stamp])
    for folder in folders:
        for path in (folder, os.path.join(folder, "METADATA"), os.path.join(folder, "PKG-INFO")):  # noqa: PTH118
            stamp = _stamp(path)
            if stamp is None and os.path.exists(path):  # noqa: PTH110
                return None
            stamps.append([path, stamp])
    return stamps


def _cache_key() -> str:
    """A digest of what :func:`audit` depends on, but for the installed versions."""
    import hashlib

    import packaging

    from . import __version__

    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    own = Path(__file__).stat()
    parts = [sys.platform, __version__, packaging.__version__, own.st_mtime_ns, own.st_ctime_ns]
    parts += [own.st_size, own.st_ino]
    digest.update(repr(parts).encode())
    for path in (installed_path(), SHIPPED):
        # The path too: the report names the snapshot in use by its path.
        name = str(path).encode("utf-8", "surrogateescape")
        stamp = _stamp(path)
        if stamp is not None:
            data = repr(stamp).encode()
        else:  # absent, unusable, or just written: its bytes
            try:
                data = read_bounded(str(path), SNAPSHOT_LIMIT)
            except OSError as e:  # absent or unusable: choose() says which, the same every time
                data = f"{path}: {type(e).__name__} {e.errno}".encode()
        digest.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


Result = tuple[SnapshotInfo, tuple[VulnerablePackage, ...]]


def _read_cache(
    path: str, key: str
) -> tuple[list[str], dict[str, str], list[str], list[Any] | None, Result] | None:
    """(names, versions, metadata folders, their stamps, result) kept under ``key`` at ``path``,
    or None to compute anew."""
    try:
        # Only this user's own file, which nobody else could have written: a cache that says
        # "nothing found" could otherwise hide an advisory.
        data = read_bounded(path, CACHE_LIMIT, owner=os.geteuid(), private=True)
    except OSError:
        return None
    try:
        kept = json.loads(data)
        if kept["key"] != key:
            return None
        info = kept["info"]
        result = (
            SnapshotInfo(
                kind=str(info["kind"]),
                path=str(info["path"]),
                date=dt.date.fromisoformat(info["date"]) if info["date"] else None,
                source=str(info["source"]),
                count=int(info["count"]),
                known_ids=frozenset(map(str, info["known_ids"])),
                problem=str(info["problem"]),
            ),
            tuple(
                VulnerablePackage(
                    name=str(p["name"]),
                    version=str(p["version"]),
                    advisories=tuple(
                        Advisory(
                            id=str(a["id"]),
                            aliases=tuple(map(str, a["aliases"])),
                            severity=str(a["severity"]),
                            affected=str(a["affected"]),
                            fixed=str(a["fixed"]),
                            platforms=tuple(map(str, a["platforms"])),
                        )
                        for a in p["advisories"]
                    ),
                    fix_version=str(p["fix_version"]),
                )
                for p in kept["vulnerable"]
            ),
        )
        names = [str(n) for n in kept["names"]]
        versions = {str(k): str(v) for k, v in kept["versions"].items()}
        folders = [str(f) for f in kept["folders"]]
        stamps = kept["stamps"]
        if stamps is not None and not isinstance(stamps, list):
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return names, versions, folders, stamps, result


def _write_cache(
    path: str,
    key: str,
    names: Iterable[str],
    versions: dict[str, str],
    folders: list[str],
    stamps: list[Any] | None,
    result: Result,
) -> None:
    """Keep ``result`` at ``path`` (mode 0600, replaced in one step); errors are ignored."""
    import tempfile

    info, found = result
    kept = {
        "key": key,
        "names": sorted(names),
        "versions": versions,
        "folders": folders,
        "stamps": stamps,
        "info": {
            **as_dict(info),
            "date": info.date.isoformat() if info.date else "",
            "known_ids": sorted(info.known_ids),
        },
        "vulnerable": [
            {**as_dict(p), "advisories": [as_dict(a) for a in p.advisories]} for p in found
        ],
    }
    try:
        fd, temporary = tempfile.mkstemp(prefix=".advisories-", dir=os.path.dirname(path))  # noqa: PTH120
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(kept, out)
        Path(temporary).replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # noqa: PTH108


def fix_command(package: VulnerablePackage) -> str:
    """The pip line that fixes every advisory of ``package``."""
    if package.fix_version.startswith(">"):
        return f"pip install -U '{package.name}{package.fix_version}'"
    if package.fix_version:
        return f"pip install -U '{package.name}>={package.fix_version}'"
    ids = ", ".join(
        f"'{a.id}': '<why this is acceptable here>'" for a in package.advisories if not a.fixed
    )
    return (
        f"no release of {package.name} fixes every advisory yet: remove it (pip uninstall "
        f"{package.name}) if the server can do without it, or accept the advisory: "
        f"c.Hardening.accepted_risks = {{{ids}}}"
    )
