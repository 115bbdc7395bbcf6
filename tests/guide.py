"""The deployment guide (docs/deployment.md) as test data: its commands, its config block, its Dockerfile.

Tests run what the guide tells people to run, so the guide cannot drift from the code.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from .servers import JupyterHome, jupyter_bin

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deployment.md"
DOCKER = ROOT / "examples" / "docker"
START = "<!-- section:deploy (owner: browser) -->"
PUBLIC_PORT = 8443
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def deploy_section() -> str:
    """The guide's text between the deploy marker and the next section marker."""
    text = GUIDE.read_text()
    body = text.split(START, 1)[1]
    return body.split("<!-- section:", 1)[0]


def blocks(language: str) -> list[str]:
    """The fenced code blocks of the guide written in ``language`` (bash, python, ...)."""
    return [code for lang, code in FENCE.findall(deploy_section()) if lang == language]


def commands() -> list[str]:
    """Every command line of the guide's bash blocks, in order."""
    return [
        line.strip()
        for block in blocks("bash")
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def command(prefix: str) -> list[str]:
    """The one guide command that starts with ``prefix``, split into words as a shell would."""
    found = [c for c in commands() if c.startswith(prefix)]
    assert len(found) == 1, f"expected one command starting with {prefix!r}, found {found}"
    return shlex.split(found[0])


def after(words: list[str], program: str) -> list[str]:
    """The arguments after ``program`` in a command's words: its path (``/opt/.../jupyter``)
    if there is one, else its last bare mention (``docker exec jupyter jupyter ...``)."""
    paths = [i for i, w in enumerate(words) if w.endswith("/" + program)]
    bare = [i for i, w in enumerate(words) if w == program]
    assert paths or bare, f"{program} not in {words}"
    return words[(paths or bare)[0 if paths else -1] + 1 :]


def server_config(public_port: int = PUBLIC_PORT) -> str:
    """The guide's jupyter_server_config.py, with the public port replaced by ``public_port``."""
    (config,) = blocks("python")
    public = f"jupyter.example.com:{PUBLIC_PORT}/"
    assert public in config
    return config.replace(public, f"jupyter.example.com:{public_port}/")


def set_password(home: JupyterHome, secret: str) -> None:
    """`jupyter server password`, typed as a person would (without a terminal it reads stdin)."""
    result = subprocess.run(
        [jupyter_bin("jupyter-server"), "password"],
        input=f"{secret}\n{secret}\n",
        capture_output=True,
        text=True,
        env=home.env(),
        timeout=120,
        start_new_session=True,  # no controlling terminal: getpass falls back to stdin
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote hashed password" in result.stderr
