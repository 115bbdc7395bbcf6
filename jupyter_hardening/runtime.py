"""Find running Jupyter servers through their runtime files (``jpserver-<pid>.json``).

The files also hold each server's token: it is never read into these objects, so it can never be
printed or logged from here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .facts import default_port, valid_port
from .printable import redacted_url
from .safefile import SECRET_LIMIT, read_bounded


class DiscoveryError(ValueError):
    """No running server fits the request; the message is one line and lists what runs."""


@dataclass(frozen=True)
class RunningServer:
    """What a runtime file says about a live server (everything but its token)."""

    pid: int
    port: int
    base_url: str
    hostname: str
    sock: str
    secure: bool
    url: str
    version: str
    info_file: str

    def describe(self) -> str:
        """A short, token-free description: pid, where it listens, base_url."""
        where = f"sock {_printable(self.sock)}" if self.sock else f"port {self.port}"
        return f"pid {self.pid}, {where}, base_url {_printable(self.base_url)}"


def _printable(value: str) -> str:
    # Runtime files are input too: keep a stray newline from splitting a one-line message.
    return value if value.isprintable() else repr(value)


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


def pid_owned_by(pid: int, uid: int) -> bool:
    """True when a live process with this pid runs as ``uid`` (its effective user).

    Any user can create a runtime file naming any pid: a pid of another user's process (or one
    that is gone) does not make the file a server of ours.
    """
    if pid <= 0:
        return False
    proc = Path("/proc")
    if proc.is_dir():
        try:
            return (proc / str(pid)).stat().st_uid == uid
        except (OSError, ValueError):
            return False
    # Without /proc (macOS): signal 0 succeeds only for our own processes, unless we are root.
    if uid != os.geteuid() or uid == 0:
        return pid_alive(pid)
    try:
        os.kill(pid, 0)
    except (OSError, OverflowError):
        return False
    return True


def _field(info: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    # jupyter_server writes each key with one JSON type; anything else is not its file, and
    # coercing it (bool("false"), int(True), str(["x"])) would describe a server that is not there.
    value = info.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(key)
    return value


def _server_from(info: dict[str, Any], path: Path) -> RunningServer | None:
    try:
        pid = _field(info, "pid", int, 0)
        port = _field(info, "port", int, 0)
        if not (0 < pid < 2**31 and (port == 0 or valid_port(port))):
            return None
        server = RunningServer(
            pid=pid,
            port=port,
            base_url=_field(info, "base_url", str, "") or "/",
            hostname=_field(info, "hostname", str, "") or "localhost",
            sock=_field(info, "sock", str, ""),
            secure=_field(info, "secure", bool, False),
            url=_field(info, "url", str, ""),
            version=_field(info, "version", str, ""),
            info_file=str(path),
        )
    except TypeError:
        return None
    return server


def running_servers(
    runtime_dir: str | None = None, owner: int | None = None
) -> list[RunningServer]:
    """Servers of ``owner`` (default: this user), oldest pid first.

    A runtime folder may be shared (JUPYTER_RUNTIME_DIR=/tmp/...): only a regular file owned by
    ``owner`` counts, and only when its pid is a live process of ``owner`` and its name is the
    one jupyter_server gives it (``jpserver-<pid>.json``). A FIFO, a huge file, a symlink (which
    someone else may have planted: jupyter_server never writes one) or a file others could
    write is skipped, never read.
    """
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    uid = os.geteuid() if owner is None else owner
    servers = []
    try:
        # listdir, not glob: a folder this user cannot read is an error, not "no server".
        paths = sorted(p for p in Path(runtime_dir).iterdir() if fnmatch(p.name, "jpserver-*.json"))
    except FileNotFoundError:
        return []
    for path in paths:
        try:
            info = json.loads(read_bounded(str(path), SECRET_LIMIT, owner=uid, private=True))
        except (OSError, ValueError):
            continue
        server = _server_from(info, path) if isinstance(info, dict) else None
        if server is None or path.name != f"jpserver-{server.pid}.json":
            continue
        if pid_owned_by(server.pid, uid):
            servers.append(server)
    return sorted(servers, key=lambda s: s.pid)


def _listing(servers: list[RunningServer]) -> str:
    return "; ".join(s.describe() for s in servers)


def _matches_url(server: RunningServer, url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError:  # "Invalid IPv6 URL" for a stray '[', a port out of range
        return False
    if port is None:
        port = default_port(parts.scheme)
    path = parts.path or "/"
    return port == server.port and (path + "/").startswith(server.base_url)


def choose_server(
    servers: list[RunningServer],
    *,
    port: int | None = None,
    pid: int | None = None,
    url: str | None = None,
    runtime_dir: str = "",
) -> RunningServer:
    """The one server matching port/pid/url (all given must match), or DiscoveryError."""
    where = f" in {runtime_dir}" if runtime_dir else ""
    if not servers:
        raise DiscoveryError(
            f"no running Jupyter server found{where}; start one (jupyter lab / jupyter server), "
            "run this command as the user that runs Jupyter (runtime files are per user), "
            "or describe the server with --upstream and --base-url"
        )
    chosen = [
        s
        for s in servers
        if (port is None or s.port == port)
        and (pid is None or s.pid == pid)
        and (not url or _matches_url(s, url))
    ]
    wanted = " ".join(
        part
        for part in (
            f"--port {port}" if port is not None else "",
            f"--pid {pid}" if pid is not None else "",
            f"--url {redacted_url(url)}" if url else "",
        )
        if part
    )
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise DiscoveryError(
            f"no running Jupyter server matches {wanted}; running: {_listing(servers)}"
        )
    how = "choose one with --port, --pid or --url" if not wanted else f"{wanted} matches several"
    raise DiscoveryError(f"{len(chosen)} Jupyter servers are running ({how}): {_listing(chosen)}")
