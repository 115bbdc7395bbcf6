"""Shared pytest fixtures: isolated Jupyter homes, password hashes, and real-tool requirements."""

from __future__ import annotations

import os
import shutil

import pytest

from .servers import JupyterHome

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(path: str, what: str) -> str:
    """Return the tool's path; fail in CI and skip elsewhere when it is missing."""
    found = shutil.which(path)
    if found:
        return found
    message = f"{what} ({path}) is not installed; .ci/run installs it with apt-get"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def home(tmp_path):
    """An isolated JUPYTER_CONFIG_DIR/RUNTIME_DIR for real server subprocesses."""
    return JupyterHome(tmp_path / "jhome")


@pytest.fixture(scope="session")
def password():
    """A login password and its argon2 hash, made with jupyter_server's own helper."""
    from jupyter_server.auth.security import passwd

    secret = "correct horse battery staple 42"
    return secret, passwd(secret)
