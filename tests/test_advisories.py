"""Known advisories (JH902), the snapshot's age (JH903) and `jupyter hardening advisories`.

Version matching is exercised on the shipped snapshot; the end-to-end proof installs real
jupyter-server-proxy releases from PyPI into a temporary venv (see ``proxy_venv``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jupyter_hardening import advisories
from jupyter_hardening.record import replace
from jupyter_hardening.report import evaluate
from jupyter_hardening.snapshot import Snapshot

from .cli import hardening
from .forked import Result, Run, run_all
from .servers import JupyterHome, running

REPO = Path(__file__).parent.parent


def shipped() -> tuple[dict[str, Any], ...]:
    return advisories.load(advisories.SHIPPED)[2]


def vulnerable(name: str, version: str, platform: str = "linux") -> advisories.VulnerablePackage:
    (found,) = advisories.match(shipped(), {name: version}, platform)
    return found


def test_proxy_410_has_both_critical_advisories_and_one_fix() -> None:
    """jupyter-server-proxy 4.1.0: CVE-2024-28179 and CVE-2024-35225, fixed together in 4.2.0."""
    package = vulnerable("jupyter-server-proxy", "4.1.0")
    ids = {a.id: a for a in package.advisories}
    assert set(ids) == {"GHSA-w3vc-fx9p-wp4v", "GHSA-fvcq-4x64-hqxr"}
    assert "CVE-2024-28179" in ids["GHSA-w3vc-fx9p-wp4v"].aliases
    assert ids["GHSA-w3vc-fx9p-wp4v"].affected == ">=4.0.0, <4.1.1"
    assert {a.severity for a in package.advisories} == {"CRITICAL"}
    assert advisories.fix_command(package) == "pip install -U 'jupyter-server-proxy>=4.2.0'"
    assert not advisories.match(shipped(), {"jupyter-server-proxy": "4.2.0"})


def test_versions_compare_as_versions_not_strings() -> None:
    """'6.10' > '6.5.8' as versions (a string compare says the opposite); pre-releases count."""
    assert not advisories.match(shipped(), {"tornado": "6.10"})
    assert vulnerable("tornado", "6.5.8rc1").fix_version == "6.5.8"
    assert not advisories.match(shipped(), {"tornado": "6.5.8"})


def test_last_affected_and_windows_only() -> None:
    """A last_affected range (no fixed release named) and a Windows-only advisory."""
    linux = vulnerable("jupyter-server", "2.14.0")
    windows = vulnerable("jupyter-server", "2.14.0", "win32")
    only_windows = {a.id for a in windows.advisories} - {a.id for a in linux.advisories}
    assert only_windows == {"GHSA-hrw6-wg82-cm62"}
    last = next(a for a in linux.advisories if a.id == "GHSA-v42x-x7jp-845h")
    assert (last.affected, last.fixed) == (">=1.12.0, <=2.17.0", ">2.17.0")
    assert linux.fix_version == "2.20.0"  # above 2.17.0 and every fixed version


def test_pysec_twin_and_withdrawn_records_count_once() -> None:
    """An export's PYSEC record of a GHSA advisory is the same advisory; a withdrawn one is none."""
    ghsa = next(r for r in shipped() if r["id"] == "GHSA-w3vc-fx9p-wp4v")
    twin = {**ghsa, "id": "PYSEC-2024-234", "aliases": ["GHSA-w3vc-fx9p-wp4v", "CVE-2024-28179"]}
    twin.pop("database_specific")
    withdrawn = {
        **ghsa,
        "id": "GHSA-0000-0000-0000",
        "aliases": [],
        "withdrawn": "2024-01-01T00:00:00Z",
    }
    (package,) = advisories.match([twin, withdrawn, ghsa], {"jupyter-server-proxy": "4.1.0"})
    assert [(a.id, a.severity) for a in package.advisories] == [("GHSA-w3vc-fx9p-wp4v", "CRITICAL")]


def test_a_start_reuses_its_match_only_while_nothing_it_depends_on_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """advisories.audit(runtime dir): parsed and matched again when an installed version or the
    installed snapshot changes; a cache file others could have written is never believed."""
    site = tmp_path / "site"
    (site / "jupyter_server_proxy-4.1.0.dist-info").mkdir(parents=True)
    (site / "jupyter_server_proxy-4.1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jupyter-server-proxy\nVersion: 4.1.0\n\nText\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    cache = runtime / advisories.CACHE_NAME
    computed = []
    choose = advisories.choose
    monkeypatch.setattr(advisories, "choose", lambda: computed.append(1) or choose())

    def proxy_ids() -> set[str]:
        _, found = advisories.audit(str(runtime))
        return {a.id for p in found if p.name == "jupyter-server-proxy" for a in p.advisories}

    assert proxy_ids() == {"GHSA-w3vc-fx9p-wp4v", "GHSA-fvcq-4x64-hqxr"} and len(computed) == 1
    assert cache.stat().st_mode & 0o777 == 0o600
    first = advisories.audit(str(runtime))
    assert len(computed) == 1  # reused
    assert first == advisories.audit("")  # the same as computed without a cache
    assert first[0].known_ids == choose()[0].known_ids
    computed.clear()

    # Upgraded as pip does it: a new .dist-info folder.
    (site / "jupyter_server_proxy-4.1.0.dist-info").rename(
        site / "jupyter_server_proxy-4.2.0.dist-info"
    )
    meta = site / "jupyter_server_proxy-4.2.0.dist-info" / "METADATA"
    meta.write_text(meta.read_text().replace("4.1.0", "4.2.0"))
    assert proxy_ids() == set() and len(computed) == 1
    # Changed in place (an .egg-info folder keeps its name when its version changes), and a
    # folder earlier on sys.path whose metadata had no version yet, given one: both seen.
    meta.write_text(meta.read_text().replace("4.2.0", "4.1.0"))
    assert proxy_ids() == {"GHSA-w3vc-fx9p-wp4v", "GHSA-fvcq-4x64-hqxr"}
    meta.write_text(meta.read_text().replace("4.1.0", "4.2.0"))
    early = tmp_path / "early" / "jupyter_server_proxy.egg-info"
    early.mkdir(parents=True)
    (early / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: jupyter-server-proxy\n\n")
    monkeypatch.syspath_prepend(str(early.parent))
    assert proxy_ids() == set() and proxy_ids() == set()
    (early / "PKG-INFO").write_text("Metadata-Version: 2.1\nVersion: 4.1.0\n\n")
    assert proxy_ids() == {"GHSA-w3vc-fx9p-wp4v", "GHSA-fvcq-4x64-hqxr"}
    (early / "PKG-INFO").unlink()
    # A sys.path entry that is not a str (imports take a Path): no error.
    monkeypatch.setattr(sys, "path", [*sys.path, tmp_path / "a-path"])
    assert proxy_ids() == set() and len(computed) == 5  # reused: the versions are the same
    computed[:] = [1]

    # A newer installed snapshot with an advisory for 4.2.0.
    _, _, records = advisories.load(advisories.SHIPPED)
    base = next(r for r in records if r["id"] == "GHSA-w3vc-fx9p-wp4v")
    newer = {
        **base,
        "id": "GHSA-test-0000-0000",
        "aliases": [],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "jupyter-server-proxy"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9"}]}],
            }
        ],
    }
    installed = advisories.installed_path()
    installed.parent.mkdir(parents=True)
    # Dated today: newer than the shipped one (or as new: the installed one wins a tie).
    today = dt.date.today().isoformat()
    document = {"format": advisories.FORMAT, "date": today, "source": "test"}
    installed.write_text(json.dumps({**document, "advisories": [*records, newer]}))
    assert proxy_ids() == {"GHSA-test-0000-0000"} and len(computed) == 2
    assert proxy_ids() == {"GHSA-test-0000-0000"} and len(computed) == 2

    # A cache that says "nothing found" under the right key, but writable by others, a link to
    # such a file, or not JSON: ignored, computed again, and the advisory still found.
    kept = json.loads(cache.read_text())
    emptied = json.dumps({**kept, "vulnerable": []})
    planted = tmp_path / "planted.json"
    for plant in ("group-writable", "symlink", "garbage", "another user's"):
        cache.unlink()
        if plant == "symlink":
            planted.write_text(emptied)
            cache.symlink_to(planted)
        else:
            cache.write_text("{" if plant == "garbage" else emptied)
            cache.chmod(0o664 if plant == "group-writable" else 0o600)
            if plant == "another user's":
                if os.geteuid() != 0:
                    continue  # only root can give a file away; CI runs as root
                os.chown(cache, 65534, 65534)
        before = len(computed)
        assert proxy_ids() == {"GHSA-test-0000-0000"} and len(computed) == before + 1, plant
    cache.write_text(emptied)
    cache.chmod(0o600)
    assert proxy_ids() == set()  # the control: the same file, this user's own, is believed

    # The same installed snapshot in another data folder: the report names the one in use.
    moved = tmp_path / "data2" / "hardening" / installed.name
    moved.parent.mkdir(parents=True)
    moved.write_bytes(installed.read_bytes())
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data2"))
    assert advisories.audit(str(runtime))[0].path == str(moved)

    # No runtime folder to write in: computed every time, nothing raised.
    assert advisories.audit(str(tmp_path / "absent"))[1] == advisories.audit("")[1]


def test_a_start_knows_the_installed_versions_unchanged_by_their_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every sys.path folder and metadata file is older than the racy window, a start
    compares their stamps instead of listing sys.path; each kind of change is still seen: a
    version changed in place, a folder that had no version given one, a new install earlier on
    sys.path, an uninstall. A file changed within the window is never judged by its stamp."""
    site, early = tmp_path / "site", tmp_path / "early"
    dist = site / "jupyter_server_proxy-4.1.0.dist-info"
    dist.mkdir(parents=True)
    early.mkdir()
    meta = dist / "METADATA"
    meta.write_text("Metadata-Version: 2.1\nName: jupyter-server-proxy\nVersion: 4.1.0\n\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(early))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    listed = []
    installed = advisories._installed
    monkeypatch.setattr(advisories, "_installed", lambda n: listed.append(1) or installed(n))
    # 0.2 s instead of 3 s, so that the test can wait it out; a tick of the clock that sets
    # ctimes is milliseconds.
    monkeypatch.setattr(advisories, "_RACY_NS", 200_000_000)

    def settled() -> set[str]:
        """The ids found after the window has passed, and whether sys.path was listed."""
        time.sleep(0.25)
        listed.clear()
        _, found = advisories.audit(str(runtime))
        return {a.id for p in found if p.name == "jupyter-server-proxy" for a in p.advisories}

    both = {"GHSA-w3vc-fx9p-wp4v", "GHSA-fvcq-4x64-hqxr"}
    assert settled() == both and listed  # computed, and the stamps kept
    assert settled() == both and not listed  # known unchanged by them
    meta.write_text(meta.read_text().replace("4.1.0", "4.2.0"))  # in place: same folder
    assert settled() == set() and listed
    assert settled() == set() and not listed
    # A folder without a version, earlier on sys.path: read, so its stamps are kept too.
    (early / "jupyter_server_proxy.egg-info").mkdir()
    pkg_info = early / "jupyter_server_proxy.egg-info" / "PKG-INFO"
    pkg_info.write_text("Metadata-Version: 2.1\nName: jupyter-server-proxy\n\n")
    assert settled() == set() and listed
    assert settled() == set() and not listed
    pkg_info.write_text("Metadata-Version: 2.1\nVersion: 4.1.0\n\n")
    assert settled() == both and listed
    assert settled() == both and not listed
    # Removed: the folder's listing changed.
    pkg_info.unlink()
    (early / "jupyter_server_proxy.egg-info").rmdir()
    assert settled() == set() and listed
    assert settled() == set() and not listed
    # Installed anew earlier on sys.path.
    (early / "jupyter_server_proxy-4.1.0.dist-info").mkdir()
    (early / "jupyter_server_proxy-4.1.0.dist-info" / "METADATA").write_text(
        meta.read_text().replace("4.2.0", "4.1.0")
    )
    assert settled() == both and listed
    # Within the window, never by stamps: the versions are read every time.
    monkeypatch.setattr(advisories, "_RACY_NS", 3_000_000_000)
    assert advisories._install_stamps([]) is None  # early/ changed under a second ago
    listed.clear()
    assert advisories.audit(str(runtime))[1] and listed


def snap_with(*packages: advisories.VulnerablePackage, **changes: Any) -> Snapshot:
    info, _ = advisories.choose()
    return replace(Snapshot(), advisories=info, vulnerable=packages, **changes)


def test_severity_by_exposure_and_one_advisory_accepted() -> None:
    """Critical: error when reachable, warning on loopback; accepting one id keeps the other."""
    package = vulnerable("jupyter-server-proxy", "4.1.0")
    remote = snap_with(package, ip="0.0.0.0", ip_is_loopback=False)
    (item,) = [i for i in evaluate(remote).items if i.finding.id == "JH902"]
    assert item.finding.severity.label == "error" and item.blocking
    loopback = evaluate(snap_with(package))
    assert [i.finding.severity.label for i in loopback.items if i.finding.id == "JH902"] == [
        "warning"
    ]
    report = evaluate(remote, accepted={"CVE-2024-28179": "websockets not used here"})
    items = [i for i in report.items if i.finding.id == "JH902"]
    accepted = [i for i in items if i.accepted]
    rest = [i for i in items if not i.accepted]
    assert len(accepted) == 1 and "GHSA-w3vc-fx9p-wp4v" in accepted[0].finding.message
    assert accepted[0].reason == "websockets not used here"
    assert len(rest) == 1 and "GHSA-fvcq-4x64-hqxr" in rest[0].finding.message
    assert "GHSA-w3vc" not in rest[0].finding.message and rest[0].blocking
    assert "JH002" not in {i.finding.id for i in report.items}
    typo = evaluate(remote, accepted={"GHSA-xxxx-typo-0000": "typo"})
    assert "JH002" in {i.finding.id for i in typo.items}


def test_stale_snapshot_is_an_info_finding() -> None:
    """Older than 90 days: info, naming the snapshot and how to update."""
    later = snap_with(taken_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400))
    (item,) = [i for i in evaluate(later).items if i.finding.id == "JH903"]
    assert item.finding.severity.label == "info"
    assert "--update all.zip" in item.finding.fix
    assert not [i for i in evaluate(snap_with()).items if i.finding.id == "JH903"]


def osv_zip(path: Path, modified: dt.date, extra: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]
    """An OSV export as osv.dev publishes it: a zip of one JSON record per advisory."""
    stamp = f"{modified.isoformat()}T00:00:00Z"
    with zipfile.ZipFile(path, "w") as archive:
        for record in [*shipped(), *extra]:
            archive.writestr(f"{record['id']}.json", json.dumps({**record, "modified": stamp}))
    return path


EVERY_SERVER = {  # made up: flags the installed jupyter-server, so the audit shows which is used
    "id": "TEST-0001",
    "aliases": [],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jupyter_server"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
    "database_specific": {"severity": "LOW"},
}


def run(
    home: JupyterHome, *args: str, python: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`jupyter hardening ARGS` (from another venv's python when given)."""
    return hardening(*args, home=home, python=python, timeout=300)


def test_update_good_then_corrupt(home: JupyterHome, tmp_path: Path) -> None:
    """A good export is installed and used by the audit; a corrupt one: one line, exit 2, old kept."""
    today = dt.datetime.now(dt.timezone.utc).date()
    good = osv_zip(tmp_path / "all.zip", today, [EVERY_SERVER])
    result = run(home, "advisories", "--update", str(good))
    assert result.returncode == 0, result.stderr
    assert "Advisory snapshot in use: installed" in result.stdout
    assert "Affected: jupyter-server" in result.stdout and "TEST-0001 (low)" in result.stdout
    installed = home.root / "data" / "hardening" / "advisories.json"
    before = installed.read_bytes()
    check = json.loads(run(home, "check", "--format", "json").stdout)
    assert check["settings"]["advisory snapshot"].startswith("installed")
    assert "TEST-0001" in json.dumps(check["findings"])

    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    bad_json = tmp_path / "bad"
    (bad_json / "PyPI").mkdir(parents=True)
    (bad_json / "PyPI" / "X.json").write_text("{not json")
    # A zip of 17 KB whose one member unpacks to 17 MiB, and a named pipe: refused at once.
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("PyPI/GHSA-big.json", b" " * (17 * 2**20))
    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    # A record dated in the future would date the snapshot and outdate the shipped one for
    # good; one whose events are not a list would be installed and never match.
    future, shapeless = tmp_path / "future", tmp_path / "shapeless"
    for folder, record in (
        (future, {**EVERY_SERVER, "modified": "2999-11-01T00:00:00Z"}),
        (
            shapeless,
            {
                **EVERY_SERVER,
                "modified": f"{today}T00:00:00Z",
                "affected": [{**EVERY_SERVER["affected"][0], "ranges": [{"events": "x"}]}],
            },
        ),
    ):
        (folder / "PyPI").mkdir(parents=True)
        (folder / "PyPI" / "TEST-0001.json").write_text(json.dumps(record))
    messages = []
    for bad in (corrupt, bad_json, tmp_path / "missing.zip", bomb, fifo, future, shapeless):
        result = run(home, "advisories", "--update", str(bad))
        assert result.returncode == 2, result
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert installed.read_bytes() == before
        messages.append(result.stderr)
    assert "GHSA-big.json is larger than 16 MiB unpacked" in messages[3], messages[3]
    assert "not a zip file or a folder of OSV records" in messages[4], messages[4]
    assert "TEST-0001.json: 'modified' 2999-11-01 is in the future" in messages[5], messages[5]
    assert "affected[0].ranges[0]: 'events' is not a list" in messages[6], messages[6]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"date": 20990101}, "its 'date' is not a date"),
        ({"advisories": [5]}, "advisories[0] is not an OSV record"),
        ({"advisories": [{"id": "X", "aliases": "Y"}]}, "(X): 'aliases' is not a list of strings"),
        (
            {"advisories": [{"id": "X", "affected": [{"versions": "2.0"}]}]},
            "(X): affected[0]: 'versions' is not a list of strings",
        ),
        (
            {"advisories": [{"id": "X", "affected": [{"ranges": [{"events": [{"a": 1}]}]}]}]},
            "(X): affected[0].ranges[0]: 'events' is not a list",
        ),
    ],
)
def test_an_installed_snapshot_matching_would_misread_is_unusable(
    change: dict[str, Any], problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest snapshot is used: one not dated as a date, or with records of the wrong shape
    (which matching skips), would hide the shipped advisories without a word. It is refused
    whole instead, and choose() then says so (JH903) and uses the shipped one."""
    good = {"format": advisories.FORMAT, "date": "2026-01-01", "source": "t", "advisories": []}
    advisories.parse_snapshot(good)
    with pytest.raises(advisories.SnapshotError) as refused:
        advisories.parse_snapshot({**good, **change})
    assert problem in str(refused.value), refused.value
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    installed = advisories.installed_path()
    installed.parent.mkdir(parents=True)
    installed.write_text(json.dumps({**good, **change}))
    info, records = advisories.choose()
    assert info.kind == "shipped" and len(records) == len(shipped())
    assert f"{installed} is unusable" in info.problem and problem in info.problem


@pytest.fixture(scope="module")
def proxy_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with jupyter_hardening installed from its wheel and jupyter-server-proxy 4.1.0.

    It sees this environment's packages (jupyter_server ...) through a .pth file; its own
    site-packages come first, so the wheel's jupyter_hardening (with data/advisories.json) wins.
    """
    root = tmp_path_factory.mktemp("venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz_outer.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root), str(REPO)],
        check=True,
        timeout=300,
    )
    (wheel,) = root.glob("jupyter_hardening-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "jupyter_hardening/data/advisories.json" in archive.namelist()
    # --ignore-installed: the outer environment (seen through the .pth) has jupyter_hardening too,
    # and pip would skip the wheel, leaving this venv without its etc/jupyter enable file.
    subprocess.run([*pip, "--no-deps", "--ignore-installed", str(wheel)], check=True, timeout=300)
    subprocess.run([*pip, "jupyter-server-proxy==4.1.0"], check=True, timeout=300)
    # jupyter_server's console script lives in the outer environment: one for this venv.
    script = venv / "bin" / "jupyter-server"
    script.write_text(f"#!{python}\nfrom jupyter_server.serverapp import main\nmain()\n")
    script.chmod(0o755)
    return venv


def test_proxy_410_flagged_then_upgraded(proxy_venv: Path, home: JupyterHome) -> None:
    """4.1.0: an error on 0.0.0.0 with the fix, a warning in a loopback server's log; the
    current release: not flagged."""
    python = str(proxy_venv / "bin" / "python")
    report = json.loads(
        run(home, "check", "--format", "json", "--ServerApp.ip=0.0.0.0", python=python).stdout
    )
    (finding,) = [f for f in report["findings"] if f["id"] == "JH902"]
    assert finding["severity"] == "error"
    assert "jupyter-server-proxy 4.1.0" in finding["message"]
    assert "GHSA-w3vc-fx9p-wp4v (CVE-2024-28179" in finding["message"]
    assert finding["fix"] == "pip install -U 'jupyter-server-proxy>=4.2.0'"
    with running(
        home, "--ServerApp.ip=127.0.0.1", command=str(proxy_venv / "bin" / "jupyter-server")
    ) as server:
        log = server.log
    (line,) = [line for line in log.splitlines() if "JH902" in line]
    assert line.startswith("[W") and "jupyter-server-proxy>=4.2.0" in line

    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-U",
            "jupyter-server-proxy",
        ],
        check=True,
        timeout=300,
    )
    report = json.loads(run(home, "check", "--format", "json", python=python).stdout)
    assert "JH902" not in {f["id"] for f in report["findings"]}, report["findings"]


def test_old_snapshots_give_the_info_finding(
    proxy_venv: Path, home: JupyterHome, tmp_path: Path
) -> None:
    """A jupyter_hardening installed months ago (its shipped snapshot 120 days old), then an
    old export installed (100 days), then a current one: JH903 until the current one."""
    python = str(proxy_venv / "bin" / "python")
    data = subprocess.run(
        [python, "-c", "from jupyter_hardening import advisories; print(advisories.SHIPPED)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=home.work_dir,
    ).stdout.strip()
    assert str(proxy_venv) in data  # the wheel's copy, not this checkout
    (home.root / "data" / "hardening" / advisories.FILE_NAME).unlink(missing_ok=True)
    today = dt.datetime.now(dt.timezone.utc).date()
    document = json.loads(Path(data).read_text())
    Path(data).write_text(json.dumps({**document, "date": str(today - dt.timedelta(days=120))}))
    old = osv_zip(tmp_path / "old.zip", today - dt.timedelta(days=100))
    good = osv_zip(tmp_path / "all.zip", today)
    # In order, each a fresh process forked from one Python of the venv (tests/forked.py):
    # check, update to the old export, check, update to the current one, check.
    check = Run(["check", "--format", "json"], home, timeout=300)
    shipped, to_old, installed_old, to_good, current = run_all(
        [
            check,
            Run(["advisories", "--update", str(old)], home, timeout=300),
            check,
            Run(["advisories", "--update", str(good)], home, timeout=300),
            check,
        ],
        python=python,
    )

    def stale(result: Result) -> str:
        report = json.loads(result.stdout)
        return " ".join(f["message"] for f in report["findings"] if f["id"] == "JH903")

    assert "shipped" in stale(shipped) and "120 days old" in stale(shipped)
    assert to_old.returncode == 0
    assert "installed" in stale(installed_old) and "100 days old" in stale(installed_old)
    assert to_good.returncode == 0 and "in use: installed" in to_good.stdout
    assert stale(current) == ""
