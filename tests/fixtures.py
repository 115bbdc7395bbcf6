"""Shared pytest fixtures: isolated Jupyter homes, password hashes, and real-tool requirements."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


@pytest.fixture
def jupyter_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty config, runtime and data folders for a command run in-process (tests/cli.py's
    in_process), set in the environment as a user's would be."""
    folders = {name: tmp_path / name for name in ("config", "runtime", "data")}
    for path in folders.values():
        path.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(folders["config"]))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folders["runtime"]))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(folders["data"]))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    return folders
