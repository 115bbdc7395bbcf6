"""A real JupyterHub for tests: a world-readable venv built from Debian's python3 with this worktree
and jupyterhub, configurable-http-proxy from npm, the hub run as an unprivileged user on
127.0.0.1 high ports, and a service token for its REST API.

A Python installed in root's home cannot be run by other users (DESIGN.md), hence the venv in a
world-readable temp folder, built once per test session.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .servers import free_port

REPO = Path(__file__).resolve().parent.parent
# The tests' cache (venv, configurable-http-proxy from npm when not on PATH): readable by the
# hub's unprivileged user, unlike pytest's temp folders.
CACHE = Path(os.environ.get("JH_TEST_CACHE", "/tmp/jupyter_hardening-test-cache"))
CHP_PREFIX = CACHE / "chp"
UNPRIVILEGED = "nobody"


def chp_command() -> Path | None:
    """configurable-http-proxy from the test cache, installed with npm when missing."""
    # .ci/run installs it with `npm install --global` (/usr/local/bin, readable by every user).
    found = shutil.which("configurable-http-proxy")
    if found:
        return Path(found)
    chp = CHP_PREFIX / "node_modules" / ".bin" / "configurable-http-proxy"
    if chp.exists():
        return chp
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    CHP_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(CHP_PREFIX),
            "configurable-http-proxy",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    readable(CHP_PREFIX)
    return chp if chp.exists() else None


@functools.cache
def build_venv() -> Path:
    """A venv from Debian's /usr/bin/python3 with jupyterhub and this worktree (not editable).

    The dependencies are kept in CACHE across sessions (keyed by the dependencies in pyproject.toml); the worktree is
    reinstalled once per session (the test modules that start a hub share it). pytest's own
    temp folders are no use: pytest makes their root 0700.
    """
    text = (REPO / "pyproject.toml").read_text()
    dependencies = text[
        text.index("dependencies = [") : text.index("]", text.index("dependencies"))
    ]
    # One venv per checkout: worktrees side by side must not reinstall each other's package.
    key = hashlib.sha256((dependencies + str(REPO)).encode()).hexdigest()[:12]
    venv = CACHE / f"hubvenv-{key}"
    src = Path(tempfile.mkdtemp(prefix="src-", dir=CACHE))
    shutil.copytree(
        REPO,
        src,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".*_cache"),
    )
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    try:
        if not (venv / "bin" / "jupyterhub").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
            subprocess.run(
                [*pip, str(src), "jupyterhub>=4"], check=True, timeout=900, capture_output=True
            )
        else:
            subprocess.run(
                [*pip, "--no-deps", "--force-reinstall", str(src)],
                check=True,
                timeout=300,
                capture_output=True,
            )
    finally:
        shutil.rmtree(src, ignore_errors=True)
    readable(venv)
    return venv


def readable(root: Path) -> None:
    """Let every user read ``root`` and run what is in it."""
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o044 | (0o011 if path.is_dir() else 0))


def scratch(prefix: str) -> Path:
    """A fresh world-readable folder in CACHE (the caller removes it)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=CACHE))
    path.chmod(0o755)
    return path


def run_as() -> dict[str, Any]:
    """Popen arguments that drop root to the unprivileged user (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(UNPRIVILEGED)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def give(path: Path) -> None:
    """Hand a folder (and what is in it) to the unprivileged user."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(UNPRIVILEGED)
    for p in [path, *path.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid)


@dataclass
class Hub:
    """A running JupyterHub with its proxy."""

    proc: subprocess.Popen[bytes]
    root: Path
    venv: Path
    port: int
    token: str
    log_path: Path
    user_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> str:
        """The hub's output so far (user servers of the simple spawner log here too)."""
        return self.log_path.read_text(errors="replace")

    def url(self, path: str) -> str:
        """A URL through the proxy."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        timeout: float = 30,
    ) -> tuple[int, str]:
        """An HTTP request through the proxy; returns (status, body)."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """The hub's REST API with the test service's token."""
        return self.request(method, f"hub/api/{path.lstrip('/')}", self.token, body)

    def token_for(self, user: str) -> str:
        """An API token of ``user`` (made once)."""
        if user not in self.user_tokens:
            self.api("POST", f"users/{user}")
            status, body = self.api("POST", f"users/{user}/tokens", {"note": "test"})
            assert status in (200, 201), body
            self.user_tokens[user] = json.loads(body)["token"]
        return self.user_tokens[user]

    def spawn(self, user: str, timeout: float = 60) -> tuple[int, float, dict[str, Any]]:
        """Start ``user``'s server; returns (POST status, seconds until settled, user model)."""
        created, body = self.api("POST", f"users/{user}")
        assert created in (201, 409), body
        start = time.monotonic()
        status, _ = self.api("POST", f"users/{user}/server")
        deadline = start + timeout
        while time.monotonic() < deadline:
            _, body = self.api("GET", f"users/{user}")
            model = json.loads(body)
            server = model.get("servers", {}).get("", {})
            if status >= 400 or not server.get("pending"):
                return status, time.monotonic() - start, model
            time.sleep(0.3)
        raise AssertionError(f"{user}'s spawn did not settle in {timeout}s:\n{self.log[-5000:]}")

    def progress(self, user: str) -> list[dict[str, Any]]:
        """The events of the hub's progress API for ``user``'s default server."""
        _, body = self.api("GET", f"users/{user}/server/progress")
        return [
            json.loads(line[len("data:") :])
            for line in body.splitlines()
            if line.startswith("data:")
        ]

    def stop(self) -> None:
        """Stop the hub (it stops the proxy and the simple spawner's servers); a user server a
        hub killed on timeout leaves behind is killed too, so no later test finds it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid in processes_under(self.root):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)  # a test may have frozen it
                os.kill(pid, signal.SIGKILL)


def processes_under(root: Path) -> list[int]:
    """The pids of the processes whose working folder is inside ``root`` (a hub's user servers
    run in their home folders there)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == str(root) or cwd.startswith(f"{root}/"):
            found.append(int(pid))
    return found


HUB_CONFIG = """
import os
from jupyter_hardening.hub import make_pre_spawn_hook

c = get_config()  # noqa: F821
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{proxy_api_port}'
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.authenticator_class = 'dummy'
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + '/{{username}}'
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.http_timeout = 30
c.Spawner.start_timeout = 60
c.Spawner.environment = {{'PYTHONUNBUFFERED': '1'}}
c.JupyterHub.services = [{{'name': 'tests', 'api_token': {token!r}}}]
c.JupyterHub.load_roles = [{{
    'name': 'tests',
    'scopes': ['admin:users', 'admin:servers', 'tokens', 'read:users', 'access:servers'],
    'services': ['tests'],
}}]
c.JupyterHub.cleanup_servers = True

# Each test user gets a different spawn, as an admin's own hook would arrange it.
PER_USER = {per_user!r}

def admin_hook(spawner):
    extra = PER_USER.get(spawner.user.name, {{}})
    if 'ip' in extra:
        spawner.ip = extra['ip']
    spawner.args = list(extra.get('args', []))
    spawner.environment = {{**spawner.environment, **extra.get('env', {{}})}}

c.Spawner.pre_spawn_hook = make_pre_spawn_hook(then=admin_hook)
"""


def start_hub(
    root: Path, venv: Path, chp: Path, per_user: dict[str, Any], extra_config: str = ""
) -> Hub:
    """Write the config (plus ``extra_config``), start the hub as the unprivileged user, wait
    until the proxy answers."""
    root.mkdir(parents=True, exist_ok=True)
    homes = root / "homes"
    homes.mkdir(exist_ok=True)
    port, hub_port, api_port = free_port(), free_port(), free_port()
    token = secrets.token_hex(32)
    (root / "jupyterhub_config.py").write_text(
        HUB_CONFIG.format(
            port=port,
            hub_port=hub_port,
            proxy_api_port=api_port,
            chp=str(chp),
            homes=str(homes),
            singleuser=str(venv / "bin" / "jupyterhub-singleuser"),
            token=token,
            per_user=per_user,
        )
        + extra_config
    )
    give(root)
    log_path = root / "hub.log"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "jupyterhub"), "-f", str(root / "jupyterhub_config.py")],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **run_as(),
        )
    hub = Hub(proc, root, venv, port, token, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"jupyterhub exited with {proc.returncode}:\n{hub.log}")
        try:
            status, _ = hub.api("GET", "")
            if status == 200:
                return hub
        except OSError:
            pass
        time.sleep(0.3)
    hub.stop()
    raise AssertionError(f"jupyterhub not up after 60 s:\n{hub.log}")


def check_as_hub(
    venv: Path, user: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """`jupyter hardening check --hub-user USER --format json ARGS` from the hub test venv."""
    with tempfile.TemporaryDirectory(dir=CACHE) as home:
        Path(home).chmod(0o755)
        give(Path(home))
        full = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": home,
            "JUPYTER_CONFIG_DIR": str(Path(home) / ".jupyter"),
            "JUPYTER_RUNTIME_DIR": str(Path(home) / "runtime"),
            **(env or {}),
        }
        proc = subprocess.run(
            [
                str(venv / "bin" / "jupyter-hardening"),
                "check",
                "--format",
                "json",
                "--hub-user",
                user,
                *args,
            ],
            env=full,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **run_as(),
        )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def python_ok() -> bool:
    """Debian's python3 with venv support is there."""
    return Path("/usr/bin/python3").exists() and sys.platform.startswith("linux")
