"""Start real `jupyter server` / `jupyter lab` / `jupyter notebook` processes, as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def jupyter_bin(name: str) -> str:
    """The console script next to this Python (jupyter-server, jupyter-lab, jupyter-hardening)."""
    if Path(name).is_absolute():  # another environment's script
        return name
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else (shutil.which(name) or name)


def keep_advisories_fresh(data_dir: Path) -> None:
    """Once the shipped advisory snapshot is over 90 days old, install a copy dated today.

    Otherwise JH903 (info, "snapshot is old") joins every audit from that day on, and tests
    about other rules would compare their findings against it. tests/test_advisories.py tests
    the age itself.
    """
    import datetime as dt

    from jupyter_hardening import advisories

    document = json.loads(advisories.SHIPPED.read_text())
    today = dt.datetime.now(dt.timezone.utc).date()
    if (today - dt.date.fromisoformat(document["date"])).days <= advisories.STALE_DAYS:
        return
    target = data_dir / "hardening" / advisories.FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({**document, "date": today.isoformat()}))


@dataclass
class JupyterHome:
    """Isolated config and runtime folders for one test's servers."""

    root: Path
    config_dir: Path = field(init=False)
    runtime_dir: Path = field(init=False)
    work_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config_dir = self.root / "config"
        self.runtime_dir = self.root / "runtime"
        self.work_dir = self.root / "work"
        for d in (self.config_dir, self.runtime_dir, self.work_dir):
            d.mkdir(parents=True, exist_ok=True)
        keep_advisories_fresh(self.root / "data")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a jupyter process using these folders."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
        env.update(
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_DATA_DIR=str(self.root / "data"),
            JUPYTER_PLATFORM_DIRS="1",
            IPYTHONDIR=str(self.root / "ipython"),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def write_config(self, text: str, name: str = "jupyter_server_config.py") -> Path:
        """Write a config file into the config dir."""
        path = self.config_dir / name
        path.write_text(text)
        return path


@dataclass
class ServerProcess:
    """A running (or exited) jupyter process and its combined output."""

    proc: subprocess.Popen[str]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def url(self, path: str = "") -> str:
        """An http URL on this server."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def wait_ready(self, path: str = "api/status", timeout: float = 60) -> None:
        """Wait until the server answers on ``path`` (any HTTP status), or fail with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log}")
            try:
                urllib.request.urlopen(self.url(path), timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.log}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start(
    home: JupyterHome,
    *args: str,
    command: str = "jupyter-server",
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """Start ``command`` with ``args`` on a free port (unless given) in ``home``; don't wait."""
    port = port or free_port()
    log_path = home.root / f"server-{port}.log"
    argv = [
        jupyter_bin(command),
        f"--port={port}",
        "--port-retries=0",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.root_dir={home.work_dir}",
        *args,
    ]
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=home.env(**(env or {})),
            cwd=home.work_dir,
            text=True,
        )
    return ServerProcess(proc, port, log_path)


@contextlib.contextmanager
def running(home: JupyterHome, *args: str, **kwargs: object) -> Iterator[ServerProcess]:
    """A started, ready server that is stopped afterwards."""
    server = start(home, *args, **kwargs)  # type: ignore[arg-type]
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def runtime_info(home: JupyterHome) -> list[dict[str, object]]:
    """The jpserver-*.json runtime files of servers running in ``home``."""
    return [json.loads(p.read_text()) for p in sorted(home.runtime_dir.glob("jpserver-*.json"))]
