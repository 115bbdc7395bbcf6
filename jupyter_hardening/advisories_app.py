"""``jupyter hardening advisories``: the advisory snapshot in use, and ``--update FILE``."""

from __future__ import annotations

import datetime as dt
import json
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from traitlets import Unicode

from . import __version__, advisories
from .command import StrictCommand, configurable_classes

# An OSV record is small (the shipped snapshot holds 90 in 84 KiB): a member larger than this
# is refused before it is read (a zip of a few MB can unpack to GiBs).
RECORD_LIMIT = 16 * 1024 * 1024


def _entries(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .json file in a zip or a folder (osv.dev's per-ecosystem export);
    only regular files, each of at most RECORD_LIMIT bytes (SnapshotError naming it)."""
    from .safefile import read_bounded

    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            if file.is_dir():
                continue  # a folder named like a record holds none itself
            name = str(file.relative_to(path))
            try:
                yield name, read_bounded(str(file), RECORD_LIMIT)
            except OSError as e:
                raise advisories.SnapshotError(f"{name} {e.strerror or e}") from None
        return
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".json") and not info.is_dir():
                if info.file_size > RECORD_LIMIT:
                    raise advisories.SnapshotError(
                        f"{info.filename} is larger than {RECORD_LIMIT // 2**20} MiB unpacked: "
                        "not an OSV record"
                    )
                with archive.open(info) as member:
                    data = member.read(RECORD_LIMIT + 1)  # the size a zip states can lie
                if len(data) > RECORD_LIMIT:
                    raise advisories.SnapshotError(f"{info.filename} is larger than it says")
                yield info.filename, data


def _timestamp(value: Any, what: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise advisories.SnapshotError(f"{what} is not an RFC 3339 time") from None


def read_export(path: Path, keep: set[str]) -> dict[str, Any]:
    """A snapshot document from an OSV export, keeping the PyPI records for ``keep`` names.

    Every record is validated (an object with an id, a modified time that is not in the future,
    and what matching reads of the right types: advisories.record_problem); anything else
    raises SnapshotError naming the entry.
    """
    records = []
    newest: dt.datetime | None = None
    total = 0
    try:
        for name, data in _entries(path):
            total += 1
            try:
                record = json.loads(data)
            except (ValueError, UnicodeDecodeError):
                raise advisories.SnapshotError(f"{name} is not JSON") from None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise advisories.SnapshotError(f"{name} is not an OSV record (no 'id')")
            modified = _timestamp(record.get("modified"), f"{name}: 'modified'")
            if modified.tzinfo is None:
                modified = modified.replace(tzinfo=dt.timezone.utc)
            if modified > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1):
                # The snapshot's date is its newest record's: it would outdate every other.
                raise advisories.SnapshotError(
                    f"{name}: 'modified' {modified:%Y-%m-%d} is in the future"
                )
            newest = modified if newest is None or modified > newest else newest
            problem = advisories.record_problem(record)
            if problem:
                raise advisories.SnapshotError(f"{name} {problem}")
            if advisories.package_names([record]) & keep:
                records.append(record)
    except zipfile.BadZipFile:
        raise advisories.SnapshotError("not a zip file of OSV records") from None
    except (OSError, RuntimeError) as e:  # unreadable file, encrypted zip member
        raise advisories.SnapshotError(str(getattr(e, "strerror", None) or e)) from None
    if not total or newest is None:
        raise advisories.SnapshotError("holds no OSV JSON records")
    return {
        "format": advisories.FORMAT,
        "date": newest.date().isoformat(),
        "source": f"OSV export {path.name} ({total} records, {len(records)} kept)",
        "advisories": records,
    }


class AdvisoriesApp(StrictCommand):
    """Show the advisory snapshot the audit uses, and which installed packages it flags.

    --update FILE installs a newer OSV export: the zip (or an unpacked folder) of OSV JSON
    records that osv.dev publishes per ecosystem, e.g.
    https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip . It is validated first
    and written atomically into the Jupyter data dir; on a bad file the old snapshot is kept.
    The audit never goes to the network: it uses the newest of the shipped and installed ones.
    """

    name = "jupyter-hardening-advisories"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening advisories
    curl -O https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip
    jupyter hardening advisories --update all.zip
    """

    update = Unicode("", config=True, help="An OSV export (zip or folder) to install.")
    aliases = {"update": "AdvisoriesApp.update"}

    flags: dict[str, Any] = {}

    def initialize(self, argv: Any = None) -> None:
        """Parse the options; an unknown or bad one is one line and exit 2 (not a usage block,
        not a warning and exit 0)."""
        args = list(sys.argv[1:] if argv is None else argv)
        problem = self.argv_problem(args, configurable_classes())
        if problem:
            self.fail(problem)
        self.strict_initialize(args, super().initialize)

    def start(self) -> None:
        """Install an export (--update), then describe the snapshot in use."""
        if self.update:
            self.install(Path(self.update))
        info, records = advisories.choose()
        if info.problem:
            print(f"warning: {info.problem}")
        if not info.kind:
            self.fail("no advisory snapshot can be read")
        print(f"Advisory snapshot in use: {info.describe()}")
        print(f"  source: {info.source}")
        counts: Counter[str] = Counter()
        for record in records:
            counts.update(advisories.package_names([record]))
        versions = advisories.installed_versions(counts)
        print("Advisories per package (installed version):")
        for name, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])):
            installed = versions.get(name)
            if installed or len(counts) <= 50:
                print(f"  {name:28} {n:4}  {installed or 'not installed'}")
        vulnerable = advisories.match(records, versions)
        if not vulnerable:
            print("Installed packages affected: none")
        for package in vulnerable:
            ids = ", ".join(f"{a.id} ({a.severity.lower()})" for a in package.advisories)
            print(f"Affected: {package.name} {package.version}: {ids}")
            print(f"  fix: {advisories.fix_command(package)}")
        age = (dt.datetime.now(dt.timezone.utc).date() - info.date).days if info.date else 0
        if age > advisories.STALE_DAYS:
            print(
                f"The snapshot is {age} days old: download {advisories.EXPORT_URL} and run "
                "`jupyter hardening advisories --update all.zip`"
            )

    def install(self, path: Path) -> None:
        """Validate an OSV export and write it atomically as the installed snapshot."""
        if not path.exists():
            self.fail(f"--update {path}: no such file or folder")
        if not (path.is_file() or path.is_dir()):  # a FIFO would block the read forever
            self.fail(f"--update {path}: not a zip file or a folder of OSV records")
        _, _, shipped = advisories.load(advisories.SHIPPED)
        keep = advisories.package_names(shipped) | _installed_names()
        try:
            document = read_export(path, keep)
        except advisories.SnapshotError as e:
            self.fail(f"--update {path}: {e}; the installed snapshot is unchanged")
        from .outputfile import write_atomically  # readers see the old file or the new one

        target = advisories.installed_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(str(target), json.dumps(document, sort_keys=True) + "\n")
        except OSError as e:
            self.fail(
                f"cannot write {target}: {e.strerror or e}; the installed snapshot is unchanged"
            )
        print(
            f"Installed {target}: dated {document['date']}, "
            f"{len(document['advisories'])} advisories for the packages here"
        )


def _installed_names() -> set[str]:
    """The normalized names of every installed distribution."""
    from importlib.metadata import distributions

    return {advisories.normalize(d.metadata["Name"] or "") for d in distributions()}
