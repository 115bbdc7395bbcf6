"""The one way the tests run a `jupyter hardening` command as a user would: this environment's
console script, in a Jupyter home's folders when one is given, output captured as text, and a
timeout so that a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from typing import Any

from .servers import JupyterHome, jupyter_bin


def hardening(
    *args: str,
    home: JupyterHome | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``jupyter hardening ARGS`` (what `jupyter hardening` itself execs: the
    ``jupyter-hardening`` script next to this Python). With ``home``, in its config and runtime
    folders and its work folder; ``env`` adds variables; other keywords go to subprocess.run."""
    if home is not None:
        environ: dict[str, str] | None = home.env(**dict(env or {}))
        kwargs.setdefault("cwd", home.work_dir)
    else:
        environ = {**os.environ, **env} if env else None
    return subprocess.run(
        [jupyter_bin("jupyter-hardening"), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        check=False,
        **kwargs,
    )
