"""``jupyter hardening systemd-unit``: a sandboxed systemd service that runs Jupyter as a user.

It replaces the recipes' supervisor programs and ``/etc/rc.local`` lines. Settings (ip, port,
base_url, password) stay in the user's ``jupyter_server_config.py``, where the extension and
``jupyter hardening check`` read them; the unit only decides who runs what, where, and inside
which walls. Light on purpose: it never imports the server application.
"""

from __future__ import annotations

import dataclasses
import grp
import os
import posixpath
import pwd
import re
import shlex
import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Unicode

from . import __version__
from .command import StrictCommand, configurable_classes

COMMANDS = ("lab", "server", "notebook")
USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
# Characters that could end a unit line, start a quoted string or an escape: refused outright.
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\"'\\]")
# Writable paths that would switch ProtectSystem=strict off for the system itself.
SYSTEM_DIRS = frozenset(
    {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt",
        "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/bin", "/usr/local",
        "/usr/local/bin", "/usr/sbin", "/var", "/var/lib",
        "/tmp",  # noqa: S108 - refused as a working folder, never used
    }
)  # fmt: skip
# Trees that stay read-only for the system's sake: no writable path inside them either.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr",
    "/var/log",
)  # fmt: skip
USERADD_HINT = "useradd --system --create-home --home-dir /srv/jupyter --shell /bin/bash jupyter"
# What ProtectHome=tmpfs hides: a path below them is seen only when the unit binds it.
HIDDEN_HOMES = ("/home", "/root", "/run/user")


@dataclasses.dataclass(frozen=True)
class UnitOptions:
    """What the unit needs: the account, its home, the folder to serve, and the executable;
    whether the executable's environment is the user's own (so pip may install into it), and
    the two walls that some libraries cannot live with."""

    user: str
    home: str
    working_dir: str
    command: str
    executable: str
    environment_writable: bool = False
    gpu: bool = False
    memory_deny_write_execute: bool = False

    @property
    def environment(self) -> str:
        """The Python environment the executable belongs to (``/opt/jupyter`` for
        ``/opt/jupyter/bin/jupyter-lab``)."""
        return posixpath.dirname(posixpath.dirname(self.executable))


def check_value(label: str, value: str) -> str:
    """Refuse a value that could break out of its unit line; return it unchanged otherwise."""
    if not value:
        raise ValueError(f"{label} is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{label} {value!r} is not UTF-8 text (a name in another encoding): a unit file is "
            "UTF-8; rename it, or use another folder"
        ) from None
    bad = FORBIDDEN.search(value)
    if bad:
        raise ValueError(
            f"{label} {value!r} contains {bad.group()!r}: newlines, control characters, quotes "
            "and backslashes are not allowed in a unit file"
        )
    return value


def check_path(label: str, value: str, *, writable: bool = True) -> str:
    """An absolute, normalized path that is safe in a unit; a ``writable`` one (a folder the
    unit binds writable) is neither a system folder nor inside one, nor a link to one."""
    check_value(label, value)
    if not value.startswith("/"):
        raise ValueError(f"{label} {value!r} is not an absolute path")
    if ":" in value:
        raise ValueError(
            f"{label} {value!r} contains ':', which systemd reads as a separator in BindPaths= "
            "(and the shell in PATH); use a path without it"
        )
    path = posixpath.normpath(value)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    system = system_folder(path) if writable else ""
    if system:
        raise ValueError(
            f"{label} {system}: making it writable would undo ProtectSystem=strict; use a "
            "folder of its own such as /srv/jupyter"
        )
    return path


def system_folder(path: str) -> str:
    """Why ``path`` (normalized) must not be writable: "'/etc' is a system folder", "... is
    inside the system folder /usr", also where a symbolic link leads; '' when it may be."""
    for seen in dict.fromkeys((path, os.path.realpath(path))):
        inside = next((t for t in SYSTEM_TREES if seen.startswith(t + "/")), "")
        if seen in SYSTEM_DIRS or seen in SYSTEM_TREES or inside:
            link = f" (where {path!r} leads)" if seen != path else ""
            what = f"inside the system folder {inside}" if inside else "a system folder"
            return f"{seen!r}{link} is {what}"
    return ""


def escape(value: str, *, dollar: bool = False) -> str:
    """Escape systemd specifiers (``%``) and, in ExecStart, variable expansion (``$``)."""
    value = value.replace("%", "%%")
    return value.replace("$", "$$") if dollar else value


def quote(value: str, *, dollar: bool = False) -> str:
    """A single word for ExecStart=, Environment= or BindPaths=, double-quoted if needed."""
    value = escape(value, dollar=dollar)
    return f'"{value}"' if " " in value else value


def check_folder(label: str, path: str, entry: pwd.struct_passwd) -> None:
    """Refuse a folder that is not there: systemd would fail the start (200/CHDIR, 226/NAMESPACE)
    with a line only the journal shows. The message gives the command that creates it."""
    if Path(path).is_dir():
        return
    if Path(path).exists():
        raise ValueError(f"{label} {path!r} is not a folder")
    try:
        group = grp.getgrgid(entry.pw_gid).gr_name
    except KeyError:
        group = str(entry.pw_gid)
    raise ValueError(
        f"{label} {path!r} does not exist; create it first: sudo install -d -o {entry.pw_name} "
        f"-g {group} -m 700 {shlex.quote(path)}"
    )


def resolve_options(
    user: str,
    working_dir: str,
    command: str,
    executable: str = "",
    *,
    gpu: bool = False,
    memory_deny_write_execute: bool = False,
) -> UnitOptions:
    """Validate the command-line values and look the user up; ValueError says what is wrong."""
    check_value("--user", user)
    if not USER_NAME.match(user):
        raise ValueError(f"--user {user!r} is not a valid user name")
    if command not in COMMANDS:
        # Not repeated whole: a command line may carry a token (--ServerApp.token=...).
        words = command.split(None, 1) or [command]
        shown = repr(words[0]) + (" ..." if len(words) > 1 else "")
        raise ValueError(f"--command {shown} must be one of: {', '.join(COMMANDS)}")
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
    check_folder(f"the home folder of {user!r}", home, entry)
    workdir = check_path("--working-dir", working_dir or home)
    check_folder("--working-dir", workdir, entry)
    executable = executable or str(Path(sys.executable).with_name(f"jupyter-{command}"))
    executable = check_path("the Jupyter executable", executable, writable=False)
    opts = UnitOptions(
        user,
        home,
        workdir,
        command,
        executable,
        gpu=gpu,
        memory_deny_write_execute=memory_deny_write_execute,
    )
    try:
        owned = Path(opts.environment).stat().st_uid == entry.pw_uid
    except OSError:
        owned = False
    # The user's own environment stays theirs: `%pip install` in a notebook works as it does
    # outside the unit. A root-owned one (/opt/jupyter) stays read-only, as it is outside.
    writable = owned and not system_folder(opts.environment)
    return dataclasses.replace(opts, environment_writable=writable)


def below(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def writable_paths(opts: UnitOptions) -> list[str]:
    """The home (config, caches, pip --user, runtime files), the working folder and the user's
    own Python environment, without overlaps."""
    wanted = {opts.home, opts.working_dir}
    if opts.environment_writable:
        wanted.add(opts.environment)
    paths: list[str] = []
    for path in sorted(wanted, key=len):
        if not any(below(path, p) for p in paths):
            paths.append(path)
    return paths


def read_only_paths(opts: UnitOptions) -> list[str]:
    """The Python environment, when ProtectHome= would hide it and it is not writable anyway
    (a Jupyter installed in another user's home)."""
    env = opts.environment
    hidden = any(below(env, h) for h in HIDDEN_HOMES)
    if hidden and not any(below(env, p) for p in writable_paths(opts)):
        return [env]
    return []


def render_unit(opts: UnitOptions) -> str:
    """The text of the unit file; each wall says what it takes away and why Jupyter can do without."""
    bindir = posixpath.dirname(opts.executable)
    path_env = f"PATH={bindir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    binds = "BindPaths=" + " ".join(quote(p) for p in writable_paths(opts))
    if read_only_paths(opts):
        binds += "\nBindReadOnlyPaths=" + " ".join(quote(p) for p in read_only_paths(opts))
    env_note = (
        f",\n# and {opts.environment}, this user's own Python environment: pip installs into it."
        if opts.environment_writable
        else f".\n# {opts.environment} is not this user's Python environment: it stays read-only."
    )
    devices = (
        "# --gpu: the machine's devices stay visible (GPUs for CUDA or ROCm, /dev/dri, /dev/kfd).\n"
        "PrivateDevices=no"
        if opts.gpu
        else "# A /dev without hardware: null, zero, urandom, shm and the pseudo-terminals that\n"
        "# terminals need remain. GPUs (CUDA, ROCm) need --gpu.\n"
        "PrivateDevices=yes"
    )
    mdwe = (
        "# --memory-deny-write-execute: no memory that is written and then run. JIT compilers\n"
        "# (numba, JAX, Node.js) fail under it.\n"
        "MemoryDenyWriteExecute=yes"
        if opts.memory_deny_write_execute
        else "# MemoryDenyWriteExecute= is off: JIT compilers (numba, JAX, Node.js) write machine\n"
        "# code and then run it. --memory-deny-write-execute when no kernel needs one."
    )
    return f"""\
# Written by `jupyter hardening systemd-unit` {__version__}.
# Install it as /etc/systemd/system/jupyter.service, then:
#   sudo systemctl daemon-reload && sudo systemctl enable --now jupyter
# ip, port, base_url and the password live in {opts.home}/.jupyter/jupyter_server_config.py;
# check them with: sudo -u {opts.user} -H {shlex.quote(bindir + "/jupyter")} hardening check
# Rate the walls below with: systemd-analyze security jupyter.service

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

# Walls: a kernel runs whatever code a notebook holds, as {opts.user}. It still may fork and
# exec (subprocess, multiprocessing, !shell lines), open terminals, reach the network and
# write where {opts.user} keeps its work; it gets nothing else.

# Files: the system read-only; other users' homes hidden. Writable: the home (config, caches,
# pip install --user, runtime files) and the working folder{env_note}
ProtectSystem=strict
ProtectHome=tmpfs
{binds}
# /tmp and /var/tmp of its own, emptied when the service stops.
PrivateTmp=yes
{devices}
PrivateMounts=yes

# Privileges: {opts.user} has none and can gain none (no sudo, setuid programs or capabilities).
NoNewPrivileges=yes
CapabilityBoundingSet=
RestrictSUIDSGID=yes

# The kernel's settings, modules, log, clock, hostname and control groups: out of reach.
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
ProtectControlGroups=yes
# Other users' processes are invisible. ProcSubset= is left alone: psutil, top and free
# read /proc/meminfo, /proc/stat and /proc/cpuinfo.
ProtectProc=invisible

# Sockets: local (ZeroMQ ipc, --sock), IPv4 and IPv6 (browsers, kernels, pip), netlink (glibc's
# getaddrinfo asks it which addresses this host has).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
# No new namespaces (containers, bubblewrap), realtime scheduling or foreign system call ABIs.
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
# The system calls of ordinary services: processes, threads, files, sockets, shared memory,
# CPU affinity; not ptrace (gdb, py-spy), mount, swap, reboot or kernel modules. A refused call
# fails with EPERM instead of killing the kernel that made it.
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
{mdwe}
# Shared memory and semaphores {opts.user} leaves behind go when the service stops.
RemoveIPC=yes

[Install]
WantedBy=multi-user.target
"""


class SystemdUnitApp(StrictCommand):
    """Write a systemd service unit that runs Jupyter as an unprivileged user, sandboxed.

    The unit starts `jupyter lab` (or server, notebook) from this Python environment with
    --no-browser; every other setting stays in the user's Jupyter config files. The file system
    is read-only except the user's home, the working folder and the user's own Python
    environment; no devices, capabilities, privilege gain, foreign namespaces or unusual system
    calls (`systemd-analyze security` rates it OK). --gpu keeps the devices for CUDA or ROCm;
    --memory-deny-write-execute adds a wall that JIT compilers (numba, JAX) cannot live with.
    Exit status: 0 written, 2 a value was refused (one line on stderr says why).
    """

    name = "jupyter-hardening-systemd-unit"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening systemd-unit --user jupyter
    jupyter hardening systemd-unit --user jupyter --working-dir /srv/jupyter/work --command server
    jupyter hardening systemd-unit --user jupyter --output /etc/systemd/system/jupyter.service
    jupyter hardening systemd-unit --user jupyter --gpu
    """

    user = Unicode("", config=True, help="The unprivileged account that runs Jupyter (required).")
    working_dir = Unicode(
        "", config=True, help="The folder Jupyter serves and may write (default: the user's home)."
    )
    command = Unicode("lab", config=True, help="What to run: lab, server or notebook.")
    output = Unicode("-", config=True, help="Where to write the unit; - for standard output.")
    gpu = Bool(
        False,
        config=True,
        help="Keep the machine's devices visible (PrivateDevices=no): GPUs for CUDA or ROCm.",
    )
    memory_deny_write_execute = Bool(
        False,
        config=True,
        help="Add MemoryDenyWriteExecute=yes; JIT compilers (numba, JAX, Node.js) then fail.",
    )
    aliases = {
        "user": "SystemdUnitApp.user",
        "working-dir": "SystemdUnitApp.working_dir",
        "command": "SystemdUnitApp.command",
        "output": "SystemdUnitApp.output",
    }
    flags: dict[str, Any] = {
        "gpu": ({"SystemdUnitApp": {"gpu": True}}, gpu.help),
        "memory-deny-write-execute": (
            {"SystemdUnitApp": {"memory_deny_write_execute": True}},
            memory_deny_write_execute.help,
        ),
    }

    def initialize(self, argv: Any = None) -> None:
        """Parse the options; an unknown, missing, empty or doubled value is one line, exit 2."""
        args = list(sys.argv[1:] if argv is None else argv)
        for i, arg in enumerate(args):
            name, has_value, value = arg.partition("=")
            if name.lstrip("-") in self.flags and has_value:
                self.fail(f"{name} takes no value; write {name} alone")
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
                gpu=self.gpu,
                memory_deny_write_execute=self.memory_deny_write_execute,
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
        from .outputfile import write_atomically  # a failed write leaves a working unit whole

        try:
            write_atomically(self.output, text)
        except OSError as e:
            self.fail(f"cannot write {self.output}: {e.strerror or e}")
