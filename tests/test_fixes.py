"""Every fix fixes: a finding's suggested fix, applied to the case that triggered it, clears it.

Each finding carries its fix twice: as text for the person at the keyboard and as ``remedy``,
the snapshot fields as they are once the fix is applied. These tests apply the remedy to every
triggering case in tests/rule_cases.py and to the seeds' configs, re-evaluate, and require the
finding gone with no new error; and they hold the remedy to the text (the value it sets is the
one the text tells the user to write).
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_hardening.origins import backtracking, judge_pattern
from jupyter_hardening.record import as_dict
from jupyter_hardening.report import Report, evaluate, run_rules
from jupyter_hardening.rules import RULES, Finding, Severity
from jupyter_hardening.rules.base import apply_remedy
from jupyter_hardening.snapshot import Snapshot

from .forked import Result, Run, run_all
from .hub_config_cases import HUB_CASES
from .rule_cases import CASES
from .servers import JupyterHome
from .test_check import SEEDS, _seed
from .test_hub_check import hub_audit  # noqa: F401 - fixture used by name
from .test_rules import audit, tls_dir  # noqa: F401 - fixtures used by name

# Snapshot fields whose value the user writes into a config line: the text must show it.
WRITTEN = ("allow_origin_pat", "allow_origin", "base_url", "ip", "csp")


def _accepted(config: dict[str, Any]) -> dict[str, str]:
    return dict(config.get("Hardening", {}).get("accepted_risks", {}))


def _errors(report: Report) -> set[tuple[str, str]]:
    return {
        (i.finding.id, i.finding.message)
        for i in report.items
        if i.finding.severity >= Severity.ERROR and not i.accepted
    }


def assert_fix_fixes(report: Report, accepted: dict[str, str], finding: Finding) -> None:
    """Apply ``finding``'s remedy: it is gone, no new error appears, the text shows the value."""
    assert finding.remedy, f"{finding.id} has no machine-applicable fix (remedy): {finding.fix}"
    snap, accepted_after = apply_remedy(report.snapshot, accepted, finding)
    after = evaluate(snap, report.refuse_at, accepted_after)
    still = [i.finding for i in after.items if i.finding.id == finding.id]
    assert all(f.message != finding.message for f in still), (finding.fix, still)
    new_errors = _errors(after) - _errors(report)
    assert not new_errors, (finding.id, finding.fix, new_errors)
    for field, value in finding.remedy:
        if field in WRITTEN and isinstance(value, str) and value:
            assert value in finding.fix, (finding.id, field, value, finding.fix)
        if field == "allow_origin_pat":
            # No suggested pattern may admit an attacker's origin, nor stall the server.
            judged = judge_pattern(value, snap.origin_pat_fullmatch)
            assert not judged.admits_attacker and not backtracking(value), (value, judged)


def _trigger_params() -> list[Any]:
    return [
        pytest.param(rule_id, config, id=f"{rule_id}-{name}")
        for rule_id, cases in CASES.items()
        for name, config in cases["trigger"].items()
    ]


@pytest.mark.parametrize(("rule_id", "config"), _trigger_params())
def test_fix_clears_the_finding(audit, rule_id: str, config: dict[str, Any]) -> None:  # noqa: F811
    """The rule's own fix, applied to the case that triggered it, clears it and adds no error."""
    report = audit(config)
    found = [i.finding for i in report.items if i.finding.id == rule_id]
    assert found
    for finding in found:
        assert_fix_fixes(report, _accepted(config), finding)


def test_every_rule_has_a_machine_fix() -> None:
    """Meta-test: every rule is triggered by some case, and each finding there has a remedy
    (checked in test_fix_clears_the_finding); a rule without trigger cases fails here."""
    assert {rule.id for rule in RULES} <= set(CASES)


# Loading every extension in this process would leave notebook_shim's patches behind for the
# other tests: a child Python takes the seed's snapshot and hands it back pickled.
_SNAPSHOT_SCRIPT = """
import pickle, sys
from jupyter_server.serverapp import ServerApp
from jupyter_hardening.extension import OfflineAudit
app = ServerApp.instance(log_level="CRITICAL")
offline = OfflineAudit(app)  # the audit `check` runs, at the moment a served server runs it
app.initialize(argv=sys.argv[1:], new_httpserver=False)
hardening, report = offline.hardening, offline.report
out = (report.snapshot, hardening.refuse_at, dict(hardening.accepted_risks))
sys.stdout.buffer.write(pickle.dumps(out))
"""


@pytest.fixture(scope="module")
def seed_snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Each seed's argv and config file through a real ServerApp with every extension loaded:
    one fresh process per seed, forked from one Python that imported the server once
    (tests/forked.py), each in its own Jupyter home."""
    runs = []
    for path in SEEDS:
        home = JupyterHome(tmp_path_factory.mktemp("seed") / "jhome")
        argv, config_name, config, _verdict, _expect = _seed(path)
        if config_name:
            home.write_config(config, name=config_name)
        args = [*argv, f"--ServerApp.root_dir={home.work_dir}"]
        runs.append(Run(args, home, code=_SNAPSHOT_SCRIPT))
    return dict(zip((p.stem for p in SEEDS), run_all(runs), strict=True))


def _seed_report(out: Result) -> tuple[Report, dict[str, str]]:
    """The report on a seed's snapshot, as the child took it."""
    assert out.returncode == 0, out.stderr[-2000:]
    snap, refuse_at, accepted = pickle.loads(out.stdout_bytes)  # noqa: S301 - our own child's
    return evaluate(snap, refuse_at, accepted), accepted


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_fixes_fix_the_seeds(seed: Path, seed_snapshots: dict[str, Result]) -> None:
    """Every finding on a tutorial's config: its fix, applied alone, clears it."""
    report, accepted = _seed_report(seed_snapshots[seed.stem])
    assert report.items
    for item in report.items:
        assert_fix_fixes(report, accepted, item.finding)
    # Applied together, the fixes leave nothing to refuse.
    snap: Snapshot = report.snapshot
    for item in report.items:
        snap, _ = apply_remedy(snap, {}, item.finding)
    assert evaluate(snap).verdict != "refuse", [f.fix for f in run_rules(snap)]


# Pieces of origin patterns as people write them; hypothesis joins them into patterns nobody
# wrote a case for. Whatever the rules say about such a pattern, the pattern their fix suggests
# admits no attacker's origin, cannot backtrack, and clears the finding.
_PIECES = st.lists(
    st.sampled_from(
        [
            "https://",
            "https?://",
            "http://",
            r"(www\.)?",
            ".*",
            ".+",
            r"[a-z]+",
            r"[a-z0-9-]+",
            r"\.",
            ".",
            "app",
            "example",
            r"\.com",
            ".com",
            r"\.github\.io",
            r"\.co\.uk",
            r"(:\d+)?",
            ":8443",
            r"[^/]*",
            "$",
            "|",
            r"([a-z]+\.)+",
            r"([a-z]+\.?)+",
        ]
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(_PIECES)
def test_suggested_patterns_admit_no_attacker(pieces: list[str]) -> None:
    """Property: for any pattern, every origin-rule fix is a pattern the generator proves safe."""
    import re

    pattern = "".join(pieces)
    try:
        re.compile(pattern)
    except re.error:
        return
    for fullmatch in (True, False):
        snap = Snapshot(allow_origin_pat=pattern, origin_pat_fullmatch=fullmatch)
        report = evaluate(snap)
        for item in report.items:
            if item.finding.id in ("JH301", "JH302", "JH304"):
                assert_fix_fixes(report, {}, item.finding)


def test_remedy_is_not_in_the_json_report(audit) -> None:  # noqa: F811
    """The remedy is for tests and tools; the report schema stays as documented."""
    report = audit(copy.deepcopy(CASES["JH301"]["trigger"]["star"]))
    finding = report.items[0].to_json()
    assert "remedy" not in finding
    assert as_dict(report.items[0].finding)["remedy"]


def _hub_trigger_params() -> list[Any]:
    return [
        pytest.param(rule_id, case, id=f"{rule_id}-{name}")
        for rule_id, cases in HUB_CASES.items()
        for name, case in cases["trigger"].items()
    ]


@pytest.mark.parametrize(("rule_id", "case"), _hub_trigger_params())
def test_hub_fix_clears_the_finding(hub_audit, rule_id: str, case: dict[str, Any]) -> None:  # noqa: F811
    """Every hub-check fix, applied to the jupyterhub_config.py that triggered it, clears the
    finding and adds no error (the hub's rules re-evaluated on the fixed HubSnapshot)."""
    from jupyter_hardening.hubcheck import evaluate_hub

    report = hub_audit(case)
    found = [i.finding for i in report.items if i.finding.id == rule_id]
    assert found
    accepted: dict[str, str] = {}
    for finding in found:
        assert finding.remedy, f"{finding.id} has no machine-applicable fix: {finding.fix}"
        snap, accepted_after = apply_remedy(report.snapshot, accepted, finding)
        after = evaluate_hub(snap, report.refuse_at, accepted_after)
        still = [i.finding for i in after.items if i.finding.id == finding.id]
        assert all(f.message != finding.message for f in still), (finding.fix, still)
        assert not _errors(after) - _errors(report), (finding.id, finding.fix)
        for field, value in finding.remedy:
            if field in ("subdomain_host", "public_host", "hub_host", "hub_public_url") and value:
                assert value in finding.fix, (finding.id, field, value, finding.fix)


def test_spawner_args_fix_clears_the_server_finding(hub_audit) -> None:  # noqa: F811
    """A server rule's finding born of c.Spawner.args: removing the argument clears it."""
    from jupyter_hardening.hubcheck import evaluate_hub

    report = hub_audit({"config": "c.Spawner.args = ['--ServerApp.allow_origin=*']"})
    (finding,) = [i.finding for i in report.items if i.finding.id == "JH301"]
    snap, _ = apply_remedy(report.snapshot, {}, finding)
    assert "JH301" not in {i.finding.id for i in evaluate_hub(snap).items}
