"""The one way the tests run a `jupyter hardening` command: as a user would (``hardening``: this
environment's console script, in a Jupyter home's folders when one is given, output captured as
text, and a timeout so that a hang fails the test instead of stalling the suite), or in this
process for speed (``in_process``: the subcommand's app, its exit status and output)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest
from jupyter_core.application import JupyterApp

from .servers import JupyterHome, jupyter_bin


def hardening(
    *args: str,
    home: JupyterHome | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    python: str | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``jupyter hardening ARGS`` (what `jupyter hardening` itself execs: the
    ``jupyter-hardening`` script next to this Python; with ``python``, another environment's
    ``python -m jupyter_hardening.cli``). With ``home``, in its config and runtime folders and
    its work folder; ``env`` adds variables; other keywords go to subprocess.run."""
    if home is not None:
        environ: dict[str, str] | None = home.env(**dict(env or {}))
        kwargs.setdefault("cwd", home.work_dir)
    else:
        environ = {**os.environ, **env} if env else None
    program = (
        [python, "-m", "jupyter_hardening.cli"] if python else [jupyter_bin("jupyter-hardening")]
    )
    return subprocess.run(
        [*program, *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def in_process(
    app: JupyterApp, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Initialize and start a subcommand's ``app`` here: (exit status, stdout, stderr)."""
    status = 0
    try:
        app.initialize(argv)
        app.start()
    except SystemExit as e:
        status = int(e.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err: str, command: str) -> str:
    """The error of `jupyter hardening COMMAND`: exactly one line, prefixed with its name."""
    lines = [line for line in err.splitlines() if line.startswith(f"jupyter hardening {command}:")]
    assert len(lines) == 1, err
    return lines[0]
