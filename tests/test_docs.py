"""The docs match the code: docs/rules.md is what the rules say, every c.Hardening option is
documented, and the README starts with the two commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_hardening.config import Hardening
from jupyter_hardening.docs import anchor, render
from jupyter_hardening.rules import DOCUMENTED, LIVE_RULES, NGINX_RULES

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
RULES_MD = ROOT / "docs" / "rules.md"
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def test_rules_reference_is_generated_from_the_rules() -> None:
    """docs/rules.md is exactly what the generator writes from RULES: it cannot drift."""
    assert RULES_MD.read_text() == render(), (
        "docs/rules.md is out of date: run `python -m jupyter_hardening.docs docs/rules.md`"
    )


def test_every_rule_has_a_stable_anchor_and_its_examples() -> None:
    """One ``<a id="jh101">`` per rule, the live and nginx-check ones too (for help links and
    SARIF helpUri), before its entry, which holds its insecure example and its fix."""
    text = RULES_MD.read_text()
    assert re.findall(r'<a id="([^"]+)"></a>', text) == [r.id.lower() for r in DOCUMENTED]
    entries = text.split('<a id="')[1:]
    for rule, entry in zip(DOCUMENTED, entries, strict=True):
        assert entry.startswith(f'{anchor(rule)}"></a>\n\n### {rule.id} `{rule.name}`'), rule.id
        assert "**Insecure" in entry or "**Broken" in entry, rule.id
        assert "**Fix" in entry, rule.id


@pytest.mark.parametrize(
    ("module", "documented"),
    [("diagnosis.py", LIVE_RULES), ("nginxcheck.py", NGINX_RULES)],
    ids=["live", "nginx-check"],
)
def test_every_id_the_code_emits_is_documented(module: str, documented: tuple[Any, ...]) -> None:
    """The JH7xx ids written in diagnosis.py / nginxcheck.py are exactly the documented ones,
    and every name nginx-check gives a finding is the rule's name or one of its aliases."""
    source = (ROOT / "jupyter_hardening" / module).read_text()
    assert set(re.findall(r'"(JH7[1-9]\d)"', source)) == {r.id for r in documented}
    if module == "nginxcheck.py":
        names = {r.id: {r.name, *r.aliases} for r in NGINX_RULES}
        for rule_id, name in re.findall(r'"(JH7[5-9]\d)",\s*"([a-z-]+)"', source):
            assert name in names[rule_id], (rule_id, name)


def test_generator_command_writes_the_file(tmp_path: Path) -> None:
    """The command named in the drift message writes what the test compares with."""
    out = tmp_path / "rules.md"
    subprocess.run(
        [sys.executable, "-m", "jupyter_hardening.docs", str(out)], check=True, timeout=60
    )
    assert out.read_text() == RULES_MD.read_text()


def test_readme_documents_every_option() -> None:
    """Each configurable c.Hardening trait is documented."""
    names = Hardening.class_trait_names(config=True)
    missing = [n for n in names if f"c.Hardening.{n}" not in CONFIGURATION]
    assert not missing, missing


def test_readme_starts_with_the_two_commands() -> None:
    """Install-and-run first, then the test command that CI runs."""
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "python3 -m venv" in first_block  # Debian's python3 is externally managed (PEP 668)
    assert "pip install . && jupyter hardening check" in first_block
    assert "bash .ci/run" in first_block


def test_the_fleet_role_in_the_docs_is_the_one_the_hub_test_grants() -> None:
    """README and docs/fleet.md give the service the scopes test_hub_service proves enough."""
    import ast
    import re

    from .test_hub_service import SERVICE_ROLE

    for name, text in (
        ("README.md", README),
        ("docs/fleet.md", (ROOT / "docs" / "fleet.md").read_text()),
    ):
        found = re.findall(r'"scopes": (\[[^\]]*"list:users"[^\]]*\])', text)
        assert found, f"{name} gives the hub-service role no scopes"
        assert all(ast.literal_eval(s) == SERVICE_ROLE for s in found), (name, found)
