"""The registry's gates are sound: a rule module whose gate is false finds nothing.

A server start imports a rule module only when its gate (rules/__init__.py, ``_MODULES``) is true
of the snapshot (issue 11). A gate that were false where one of its rules finds something would
hide that finding, so each gate is checked here on real snapshots: every rule case of
tests/rule_cases.py, trigger and clean, loaded into a real ServerApp. On each, a gate must read
only its own fields (those of ``CLOSED``: alone in a default snapshot they open or close it
alike), and with those fields reset to jupyter_server's defaults, each alone and together,
wherever the gate is then false its module's rules must find nothing, whatever the rest of the
snapshot holds (its TLS facts, CSP, hub facts ...).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from jupyter_hardening.record import replace
from jupyter_hardening.report import run_rules
from jupyter_hardening.rules import _MODULES, RULES, rules_for, rules_of
from jupyter_hardening.snapshot import Snapshot

from .rule_cases import CASES
from .test_rules import audit, tls_dir  # noqa: F401 - fixtures used by name

# How each gated module's gate is closed: its fields as a server with the defaults has them.
CLOSED: dict[str, dict[str, Any]] = {
    "cors": {"allow_origin": "", "allow_origin_pat": ""},
    "tls": {"certfile": "", "keyfile": "", "client_ca": ""},
    "urls": {"base_url": "/"},
    "csp": {"csp": None},
    "proxy": {"trust_xheaders": False, "public_url": ""},
    "hub": {"hub": None},
}
GATES = {module: gate for module, _, gate in _MODULES if gate is not None}


def test_every_gate_has_a_way_to_close_it() -> None:
    assert set(GATES) == set(CLOSED)
    # ... and the registry holds every rule once, in the order of its modules.
    assert [r.id for r in RULES] == [r.id for m, _, _ in _MODULES for r in rules_of(m)]
    assert len({r.id for r in RULES}) == len(RULES)


def test_a_closed_gate_hides_no_finding(audit) -> None:  # noqa: F811
    """On every rule case's snapshot: the gated modules' rules find nothing once their gate is
    closed; and rules_for(snap) leaves out exactly the modules whose gate is false."""
    opened = {module: 0 for module in GATES}
    found_behind = {module: 0 for module in GATES}
    for rule_id, cases in CASES.items():
        for kind in ("trigger", "clean"):
            for name, config in cases[kind].items():
                snap = audit(config).snapshot
                where = f"{rule_id} {kind} {name}"
                chosen = {r.id for r in rules_for(snap)}
                for module, gate in GATES.items():
                    ids = {r.id for r in rules_of(module)}
                    # The gate reads its own fields only: alone in a default snapshot, they
                    # open or close it as they do here.
                    alone = replace(Snapshot(), **{k: getattr(snap, k) for k in CLOSED[module]})
                    assert gate(alone) == gate(snap), (module, where)
                    if gate(snap):
                        opened[module] += 1
                        assert ids <= chosen, where
                        found_behind[module] += bool(ids & {f.id for f in run_rules(snap)})
                    else:
                        assert not ids & chosen, where
                    # Closed in every way that leaves the gate false: any of its fields reset.
                    fields = list(CLOSED[module].items())
                    for mask in range(1, 2 ** len(fields)):
                        reset = {k: v for i, (k, v) in enumerate(fields) if mask >> i & 1}
                        closed = replace(snap, **reset)
                        if mask == 2 ** len(fields) - 1:
                            assert not gate(closed), (module, where)
                        if not gate(closed):
                            findings = [f for r in rules_of(module) for f in r.check(closed)]
                            assert not findings, (module, sorted(reset), where, findings)
                            every = [f.id for f in run_rules(closed, rules=RULES)]
                            assert every == [f.id for f in run_rules(closed)], (module, where)
                # Every rule, not only the chosen ones, agrees with the chosen ones' findings.
                every = run_rules(snap, rules=RULES)
                assert [f.id for f in every] == [f.id for f in run_rules(snap)], where
    # The cases open every gate, and behind every gate some case finds something.
    assert all(opened.values()) and all(found_behind.values()), (opened, found_behind)


def test_a_default_snapshot_needs_no_gated_module() -> None:
    """A snapshot as a server with jupyter_server's defaults has it opens no gate."""
    snap = Snapshot()
    assert not [module for module, gate in GATES.items() if gate(snap)]


def test_a_default_start_imports_no_gated_module(tmp_path) -> None:
    """rules_for imports only the modules whose gate is true (the registry imports none)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\n"
            "from jupyter_hardening.rules import rules_for\n"
            "from jupyter_hardening.snapshot import Snapshot\n"
            "rules_for(Snapshot())\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('jupyter_hardening.rules'))))",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert loaded == {
        "jupyter_hardening.rules",
        *(
            f"jupyter_hardening.rules.{m}"
            for m in ("base", *(m for m, _, g in _MODULES if g is None))
        ),
    }
