"""The README is the user's manual: it must name every rule, its fix, and every c.Hardening option."""

from __future__ import annotations

from pathlib import Path

from jupyter_hardening.config import Hardening
from jupyter_hardening.rules import RULES

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_lists_every_rule() -> None:
    """Each rule id and name appears in the rules table."""
    missing = [r.id for r in RULES if f"| `{r.id}` | `{r.name}` |" not in README]
    assert not missing, missing


def test_readme_documents_every_option() -> None:
    """Each configurable c.Hardening trait is documented."""
    names = Hardening.class_trait_names(config=True)
    missing = [n for n in names if f"c.Hardening.{n}" not in README]
    assert not missing, missing


def test_readme_starts_with_the_two_commands() -> None:
    """Install-and-run first, then the test command that CI runs."""
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "pip install . && jupyter hardening check" in first_block
    assert "bash .ci/run" in first_block
