"""`jupyter hardening systemd-unit`: the unit is accepted by systemd, sandboxed, and refuses
values that could inject lines into it."""

from __future__ import annotations

import pwd
import resource
import subprocess
import sys

import pytest

from jupyter_hardening.systemd import (
    UnitOptions,
    render_unit,
    resolve_options,
    writable_paths,
)

from .fixtures import require_tool
from .servers import jupyter_bin


def unprivileged_user() -> pwd.struct_passwd:
    """An existing account the command accepts for User= (not root, not nobody, a real home)."""
    for entry in pwd.getpwall():
        try:
            resolve_options(entry.pw_name, "", "lab")
        except ValueError:
            continue
        return entry
    pytest.skip("no unprivileged account with a home folder on this machine")


def run_unit(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would."""
    return subprocess.run(
        [jupyter_bin("jupyter-hardening"), "systemd-unit", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def unit_lines(text: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit, as {key: [values]}, comments left out."""
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            lines.setdefault(key, []).append(value)
    return lines


def test_unit_is_sandboxed_and_runs_this_environments_jupyter(tmp_path):
    user = unprivileged_user()
    work = tmp_path / "notebooks"
    work.mkdir()
    result = run_unit("--user", user.pw_name, "--working-dir", str(work))
    assert result.returncode == 0, result.stderr
    unit = unit_lines(result.stdout)
    assert unit["User"] == [user.pw_name]
    assert unit["WorkingDirectory"] == [str(work)]
    assert unit["ExecStart"] == [f"{jupyter_bin('jupyter-lab')} --no-browser"]
    for directive in (
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "UMask=0077",
        "WantedBy=multi-user.target",
    ):
        key, value = directive.split("=")
        assert unit[key] == [value], directive
    assert unit["ReadWritePaths"] == [f"{user.pw_dir} {work}"]
    # Settings belong in the config file, where `jupyter hardening check` sees them.
    assert "--ip" not in result.stdout and "--port" not in result.stdout


def test_systemd_accepts_the_unit(tmp_path):
    systemd_analyze = require_tool("systemd-analyze", "systemd-analyze (Debian package systemd)")
    user = unprivileged_user()
    work = tmp_path / "my notebooks"  # a space must be quoted where systemd splits words
    work.mkdir()
    unit = tmp_path / "jupyter.service"
    result = run_unit("--user", user.pw_name, f"--working-dir={work}", f"--output={unit}")
    assert result.returncode == 0, result.stderr
    assert f'ReadWritePaths={user.pw_dir} "{work}"' in unit.read_text()
    verify = subprocess.run(
        [systemd_analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # Unknown or malformed directives are only warnings for systemd: any output is a failure.
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")


@pytest.mark.parametrize("command", ["server", "notebook"])
def test_command_chooses_the_executable(command):
    user = unprivileged_user()
    result = run_unit("--user", user.pw_name, "--command", command)
    assert result.returncode == 0, result.stderr
    assert unit_lines(result.stdout)["ExecStart"] == [
        f"{jupyter_bin(f'jupyter-{command}')} --no-browser"
    ]
    # Default working folder: the user's home, which is then the only writable path.
    assert unit_lines(result.stdout)["ReadWritePaths"] == [user.pw_dir]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--working-dir=/srv/a\nExecStartPre=/bin/sh"], "contains '\\n'", id="newline"
        ),
        pytest.param(['--working-dir=/srv/a" "/etc'], "contains '\"'", id="double-quote"),
        pytest.param(["--working-dir=/srv/it's"], 'contains "\'"', id="single-quote"),
        pytest.param(["--working-dir=/srv/a\\b"], "contains '\\\\'", id="backslash"),
        pytest.param(["--working-dir=/"], "is a system folder", id="root-folder"),
        pytest.param(["--working-dir=/etc/"], "is a system folder", id="etc"),
        pytest.param(["--command=bash"], "must be one of: lab, server, notebook", id="command"),
    ],
)
def test_refused_values_exit_2_with_one_line(args, message):
    user = unprivileged_user()
    result = run_unit("--user", user.pw_name, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith("jupyter hardening systemd-unit: ")


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("root", "every kernel would be a root shell"),
        ("nobody", "owns no files"),
        (
            "no-such-user-42",
            "does not exist here; create it first: useradd --system --create-home "
            "--home-dir /srv/no-such-user-42 --shell /bin/bash no-such-user-42",
        ),
        ("jupyter\nUser=root", "contains '\\n'"),
        ("", "--user is empty; give it a value"),
    ],
)
def test_refused_users(user, message):
    result = run_unit(f"--user={user}")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_failed_write_leaves_the_old_unit_whole(tmp_path):
    """A write that fails half-way (here: a file size limit, as a full disk) keeps the unit that
    worked, instead of leaving it empty or cut off for the next daemon-reload."""
    user = unprivileged_user()
    unit = tmp_path / "jupyter.service"
    unit.write_text("# the unit that works\n")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    result = subprocess.run(
        [
            jupyter_bin("jupyter-hardening"),
            "systemd-unit",
            "--user",
            user.pw_name,
            f"--output={unit}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_files,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "cannot write" in result.stderr, result.stderr
    assert unit.read_text() == "# the unit that works\n"
    assert [p.name for p in tmp_path.iterdir()] == ["jupyter.service"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--command"], "--command needs a value"),
        (["--working-dir", "--command=lab"], "--working-dir needs a value"),
        (["--user=jupyter2"], "user only accepts one value"),
        (["--working-dir="], "--working-dir is empty"),
        (["--command", ""], "--command is empty"),
    ],
    ids=["last-option", "followed-by-option", "given-twice", "empty", "empty-separate"],
)
def test_option_without_value_or_twice_is_one_line(args, message):
    """No argparse usage screen, no exit 1: one line and exit 2, like every refusal here."""
    result = run_unit("--user", unprivileged_user().pw_name, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith("jupyter hardening systemd-unit: ")


def test_specifiers_and_variables_are_escaped():
    opts = UnitOptions(
        user="jupyter",
        home="/srv/jupyter",
        working_dir="/srv/jupyter/100%",
        command="lab",
        executable="/opt/$env/bin/jupyter-lab",
    )
    unit = unit_lines(render_unit(opts))
    assert unit["WorkingDirectory"] == ["/srv/jupyter/100%%"]
    assert unit["ExecStart"] == ["/opt/$$env/bin/jupyter-lab --no-browser"]
    assert unit["Environment"][0].startswith("PATH=/opt/$env/bin:")


def test_header_checks_with_this_environments_jupyter():
    """The header's check command names the unit's own environment, not whatever jupyter is on PATH."""
    opts = UnitOptions(
        "jupyter", "/srv/jupyter", "/srv/jupyter", "lab", "/opt/jupyter/bin/jupyter-lab"
    )
    header = render_unit(opts).split("\n[Unit]", 1)[0]
    assert (
        "# check them with: sudo -u jupyter -H /opt/jupyter/bin/jupyter hardening check" in header
    )


def test_writable_paths_do_not_overlap():
    def paths(home: str, work: str) -> list[str]:
        return writable_paths(UnitOptions("jupyter", home, work, "lab", "/usr/bin/jupyter-lab"))

    assert paths("/srv/jupyter", "/srv/jupyter/work") == ["/srv/jupyter"]
    assert paths("/srv/jupyter/home", "/srv/jupyter") == ["/srv/jupyter"]
    assert paths("/srv/jupyter", "/srv/jupyter-data") == ["/srv/jupyter", "/srv/jupyter-data"]


def test_relative_working_dir_is_made_absolute(tmp_path):
    user = unprivileged_user()
    opts = resolve_options(user.pw_name, f"{tmp_path}/a/../b", "lab")
    assert opts.working_dir == f"{tmp_path}/b"


def test_does_not_import_the_server():
    user = unprivileged_user()
    code = (
        "import sys\n"
        "from jupyter_hardening.cli import main\n"
        f"main(['systemd-unit', '--user', {user.pw_name!r}])\n"
        "assert 'jupyter_server.serverapp' not in sys.modules, 'serverapp was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "[Service]" in result.stdout
