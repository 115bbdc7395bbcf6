"""Real Caddy and Apache httpd for tests: foreground processes on loopback high ports, everything
they write kept in a throwaway folder, started on the config a test hands them.

Caddy gets a test-only wrapper (global options: no admin endpoint, no port-80 redirect server)
that imports the site block under test; httpd gets jupyter_hardening's own minimal httpd.conf
(the one ``apache-snippet --check`` uses), which includes the VirtualHost under test.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jupyter_hardening.proxy.probe import apache_info, caddy_env, module_dir, standalone_conf

from .servers import port_open

CADDY_GLOBALS = """{
	admin off
	auto_https disable_redirects
	storage file_system %s
}
"""


def caddy_path() -> str | None:
    """Debian's caddy."""
    return shutil.which("caddy")


def apache_path() -> str | None:
    """Debian's apache2 (in /usr/sbin, which may not be on PATH)."""
    return shutil.which("apache2") or shutil.which("apache2", path="/usr/sbin:/usr/local/sbin")


@dataclass
class RunningProxy:
    """A foreground proxy process and the file its output goes to."""

    proc: subprocess.Popen[str]
    log_path: Path

    @property
    def log(self) -> str:
        """What the proxy wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def caddy_wrapper(folder: Path, site: str) -> Path:
    """``folder/Caddyfile``: the test's global options, then ``site`` imported as a user would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jupyter.caddy").write_text(site)
    conf = folder / "Caddyfile"
    conf.write_text(CADDY_GLOBALS % (folder / "storage") + f"import {folder / 'jupyter.caddy'}\n")
    return conf


def caddy_validate(conf: Path) -> subprocess.CompletedProcess[str]:
    """``caddy validate`` on ``conf`` (a Caddyfile), with Caddy's data kept beside it."""
    return subprocess.run(
        [caddy_path() or "caddy", "validate", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=caddy_env(conf.parent),
    )


def apache_wrapper(folder: Path, site: str, *, extra: str = "") -> Path:
    """``folder/httpd.conf`` that loads the modules the site needs and includes it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jupyter.conf"
    path.write_text(site)
    modules = module_dir()
    assert modules is not None, "no httpd modules folder"
    conf = standalone_conf(folder, path, modules, apache_info(apache_path() or "apache2"))
    if extra:
        conf.write_text(conf.read_text() + extra)
    return conf


def apache_test(conf: Path) -> subprocess.CompletedProcess[str]:
    """``apache2 -t -f conf``."""
    return subprocess.run(
        [apache_path() or "apache2", "-t", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def _running(
    argv: list[str], log_path: Path, port: int, **kwargs: object
) -> Iterator[RunningProxy]:
    with log_path.open("a") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            **kwargs,  # type: ignore[call-overload]
        )
    running = RunningProxy(proc, log_path)
    try:
        deadline = time.monotonic() + 20
        while not port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{argv[0]} did not start ({proc.poll()}):\n{running.log}")
            time.sleep(0.05)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        # httpd -X leaves no children; wait for the port so the next test can bind it.
        deadline = time.monotonic() + 10
        while port_open(port) and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def running_caddy(conf: Path, port: int) -> Iterator[RunningProxy]:
    """``caddy run`` on ``conf`` in the foreground until the block ends; wait for ``port``."""
    checked = caddy_validate(conf)
    assert checked.returncode == 0, f"caddy validate failed:\n{checked.stderr}"
    argv = [caddy_path() or "caddy", "run", "--config", str(conf), "--adapter", "caddyfile"]
    with _running(argv, conf.parent / "caddy.log", port, env=caddy_env(conf.parent)) as proxy:
        yield proxy


@contextlib.contextmanager
def running_apache(conf: Path, port: int) -> Iterator[RunningProxy]:
    """``apache2 -X`` (one process, foreground) on ``conf``; wait for ``port``."""
    checked = apache_test(conf)
    assert checked.returncode == 0, f"apache2 -t failed:\n{checked.stderr}"
    argv = [apache_path() or "apache2", "-X", "-f", str(conf)]
    with _running(argv, conf.parent / "error.log", port) as proxy:
        yield proxy
