"""The docs name every rule and every c.Hardening option; the README starts with the two commands."""

from __future__ import annotations

from pathlib import Path

from jupyter_hardening.config import Hardening
from jupyter_hardening.rules import RULES

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
RULES_DOC = (ROOT / "docs" / "rules.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()


def test_readme_lists_every_rule() -> None:
    """Each rule id and name appears in the rules table."""
    missing = [r.id for r in RULES if f"| `{r.id}` | `{r.name}` |" not in RULES_DOC]
    assert not missing, missing


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
