"""``jupyter hardening systemd-unit``: a sandboxed systemd service that runs Jupyter as a user.

It replaces the recipes' supervisor programs and ``/etc/rc.local`` lines. Settings (ip, port,
base_url, password) stay in the user's ``jupyter_server_config.py``, where the extension and
``jupyter hardening check`` read them; the unit only decides who runs what, where, and inside
which walls. Light on purpose: it never imports the server application.
"""

from __future__ import annotations

import posixpath
import pwd
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Unicode

from . import __version__
from .command import StrictCommand, configurable_classes

COMMANDS = ("lab", "server", "notebook")
USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
# Characters that could end a unit line, start a quoted string or an escape: refused outright.
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\"'\\]")
# Writable paths that would switch ProtectSystem=strict off for the system itself.
SYSTEM_DIRS = frozenset(
    {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt",
        "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/bin", "/usr/local",
        "/usr/local/bin", "/usr/sbin", "/var", "/var/lib",
        "/tmp",  # noqa: S108 - refused as a working folder, never used
    }
)  # fmt: skip
USERADD_HINT = "useradd --system --create-home --home-dir /srv/jupyter --shell /bin/bash jupyter"


@dataclass(frozen=True)
class UnitOptions:
    """What the unit needs: the account, its home, the folder to serve, and the executable."""

    user: str
    home: str
    working_dir: str
    command: str
    executable: str


def check_value(label: str, value: str) -> str:
    """Refuse a value that could break out of its unit line; return it unchanged otherwise."""
    if not value:
        raise ValueError(f"{label} is empty")
    bad = FORBIDDEN.search(value)
    if bad:
        raise ValueError(
            f"{label} {value!r} contains {bad.group()!r}: newlines, control characters, quotes "
            "and backslashes are not allowed in a unit file"
        )
    return value


def check_path(label: str, value: str) -> str:
    """An absolute, normalized path that is safe in a unit and is not a system folder."""
    check_value(label, value)
    if not value.startswith("/"):
        raise ValueError(f"{label} {value!r} is not an absolute path")
    path = posixpath.normpath(value)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if path in SYSTEM_DIRS:
        raise ValueError(
            f"{label} {path!r} is a system folder: making it writable would undo "
            "ProtectSystem=strict; use a folder of its own such as /srv/jupyter"
        )
    return path


def escape(value: str, *, dollar: bool = False) -> str:
    """Escape systemd specifiers (``%``) and, in ExecStart, variable expansion (``$``)."""
    value = value.replace("%", "%%")
    return value.replace("$", "$$") if dollar else value


def quote(value: str, *, dollar: bool = False) -> str:
    """A single word for ExecStart=, Environment= or ReadWritePaths=, double-quoted if needed."""
    value = escape(value, dollar=dollar)
    return f'"{value}"' if " " in value else value


def resolve_options(user: str, working_dir: str, command: str, executable: str = "") -> UnitOptions:
    """Validate the command-line values and look the user up; ValueError says what is wrong."""
    check_value("--user", user)
    if not USER_NAME.match(user):
        raise ValueError(f"--user {user!r} is not a valid user name")
    if command not in COMMANDS:
        raise ValueError(f"--command {command!r} must be one of: {', '.join(COMMANDS)}")
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ValueError(
            f"user {user!r} does not exist here; create it first: "
            f"{USERADD_HINT.rsplit(' ', 1)[0].replace('/srv/jupyter', f'/srv/{user}')} {user}"
        ) from None
    if entry.pw_uid == 0:
        raise ValueError(
            f"--user {user!r} is root: every kernel would be a root shell; run Jupyter as an "
            f"unprivileged user ({USERADD_HINT})"
        )
    if user == "nobody" or entry.pw_uid == 65534:
        raise ValueError(
            f"--user {user!r} owns no files; create a user for Jupyter: {USERADD_HINT}"
        )
    home = check_path(f"the home folder of {user!r}", entry.pw_dir)
    workdir = check_path("--working-dir", working_dir or home)
    executable = executable or str(Path(sys.executable).with_name(f"jupyter-{command}"))
    return UnitOptions(
        user, home, workdir, command, check_path("the Jupyter executable", executable)
    )


def writable_paths(opts: UnitOptions) -> list[str]:
    """The home (config, runtime files, workspaces) and the working folder, without overlaps."""
    paths: list[str] = []
    for path in sorted({opts.home, opts.working_dir}, key=len):
        if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths):
            paths.append(path)
    return paths


def render_unit(opts: UnitOptions) -> str:
    """The text of the unit file."""
    bindir = posixpath.dirname(opts.executable)
    path_env = f"PATH={bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    rw = " ".join(quote(p) for p in writable_paths(opts))
    return f"""\
# Written by `jupyter hardening systemd-unit` {__version__}.
# Install it as /etc/systemd/system/jupyter.service, then:
#   sudo systemctl daemon-reload && sudo systemctl enable --now jupyter
# ip, port, base_url and the password live in {opts.home}/.jupyter/jupyter_server_config.py;
# check them with: sudo -u {opts.user} -H {bindir}/jupyter hardening check

[Unit]
Description=Jupyter {opts.command} for {opts.user} (jupyter_hardening)
After=network.target
# A server that jupyter_hardening refuses exits 1 at every start: stop after 5 tries.
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=simple
User={opts.user}
WorkingDirectory={escape(opts.working_dir)}
ExecStart={quote(opts.executable, dollar=True)} --no-browser
Environment={quote(path_env)}
Restart=on-failure
RestartSec=10
# Notebooks, checkpoints and runtime files readable by this user only.
UMask=0077

# Walls: kernels run arbitrary code, so the service gets only what Jupyter needs.
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ReadWritePaths={rw}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
"""


class SystemdUnitApp(StrictCommand):
    """Write a systemd service unit that runs Jupyter as an unprivileged user, sandboxed.

    The unit starts `jupyter lab` (or server, notebook) from this Python environment with
    --no-browser; every other setting stays in the user's Jupyter config files. The file system
    is read-only except the user's home and the working folder (ProtectSystem=strict), with
    NoNewPrivileges, PrivateTmp and Restart=on-failure.
    Exit status: 0 written, 2 a value was refused (one line on stderr says why).
    """

    name = "jupyter-hardening-systemd-unit"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening systemd-unit --user jupyter
    jupyter hardening systemd-unit --user jupyter --working-dir /srv/jupyter/work --command server
    jupyter hardening systemd-unit --user jupyter --output /etc/systemd/system/jupyter.service
    """

    user = Unicode("", config=True, help="The unprivileged account that runs Jupyter (required).")
    working_dir = Unicode(
        "", config=True, help="The folder Jupyter serves and may write (default: the user's home)."
    )
    command = Unicode("lab", config=True, help="What to run: lab, server or notebook.")
    output = Unicode("-", config=True, help="Where to write the unit; - for standard output.")
    aliases = {
        "user": "SystemdUnitApp.user",
        "working-dir": "SystemdUnitApp.working_dir",
        "command": "SystemdUnitApp.command",
        "output": "SystemdUnitApp.output",
    }
    flags: dict[str, Any] = {}

    def initialize(self, argv: Any = None) -> None:
        """Parse the options; an unknown, missing, empty or doubled value is one line, exit 2."""
        args = list(sys.argv[1:] if argv is None else argv)
        for i, arg in enumerate(args):
            name, has_value, value = arg.partition("=")
            if name.lstrip("-") not in self.aliases:
                continue
            if not has_value:
                if i + 1 == len(args) or args[i + 1][:2] == "--":
                    self.fail(f"{arg} needs a value, e.g. {arg}=VALUE")
                value = args[i + 1]
            if not value.strip():
                # An unset shell variable (--user "$SVC_USER") would silently give the default.
                self.fail(f"{name} is empty; give it a value")
        problem = self.argv_problem(args, configurable_classes())
        if problem:
            self.fail(problem)
        # traitlets exits 1 on a repeated or mistyped option; refusals here are exit 2.
        self.strict_initialize(args, super().initialize)

    def start(self) -> None:
        """Validate the options and write the unit."""
        if not self.user:
            self.fail(f"--user is required: the account that runs Jupyter ({USERADD_HINT})")
        try:
            opts = resolve_options(
                self.user,
                str(Path(self.working_dir).absolute()) if self.working_dir else "",
                self.command,
            )
            if self.output != "-":
                check_value("--output", self.output)
        except ValueError as e:
            self.fail(str(e))
            return
        text = render_unit(opts)
        if self.output == "-":
            sys.stdout.write(text)
            return
        from .snippet import write_atomically  # a failed write leaves a working unit whole

        try:
            write_atomically(self.output, text)
        except OSError as e:
            self.fail(f"cannot write {self.output}: {e.strerror or e}")
