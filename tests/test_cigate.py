"""`check` as a CI gate (issue 12): strict options, provenance, SARIF, pre-commit."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .servers import JupyterHome, jupyter_bin, running

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ROOT = Path(__file__).parent.parent


def hardening(
    home: JupyterHome, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `jupyter hardening ARGS` in ``home``."""
    return subprocess.run(
        [jupyter_bin("jupyter"), "hardening", *args],
        capture_output=True,
        text=True,
        env=home.env(**(env or {})),
        cwd=home.work_dir,
        timeout=120,
    )


def one_line_exit_2(out: subprocess.CompletedProcess[str], needle: str) -> None:
    """Exit 2, one line on stderr containing ``needle``, no traceback, nothing on stdout."""
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--ServerApp.ipp=0.0.0.0"], "did you mean --ServerApp.ip?"),
        (["check", "--formt", "json"], "did you mean --format?"),
        (["check", "--ipp=0.0.0.0"], "did you mean --ip?"),
        (["check", "--ServerAp.ip=0.0.0.0"], "did you mean --ServerApp.ip?"),
        (["check", "--LabApp.setings={}"], "did you mean --LabApp.settings?"),
        (["check", "--config", "/nonexistent/jupyter_server_config.py"], "no such file"),
        (["check", "--format", "xml"], "--format must be one of text, json, sarif"),
        (["check", "--ServerApp.port=abc"], "expected an int"),
        (["systemd-unit", "--comand", "server"], "did you mean --command?"),
        (["systemd-unit", "--SystemdUnitApp.usr=jupyter"], "did you mean --SystemdUnitApp.user?"),
        (["nginx-snippet", "--listen-port", "8443"], "did you mean --listen?"),
        (["--nope"], "unknown option --nope"),
        (["chek"], "did you mean check?"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_unknown_and_wrong_options_are_one_line(
    home: JupyterHome, args: list[str], needle: str
) -> None:
    """Any option no class knows, a missing --config, a wrong type: one line, exit 2."""
    one_line_exit_2(hardening(home, *args), needle)


def test_traitlets_warning_is_not_repeated(home: JupyterHome) -> None:
    """traitlets warned once per configurable (eight lines) and check said OK: now one line."""
    out = hardening(home, "check", "--ServerApp.ipp=0.0.0.0")
    assert "not recognized" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--PasswordIdentityProvider.hashed-password=S3cretHash"],
        ["check", "--IdentityProvider.tokn=S3cretHash"],
    ],
)
def test_typo_in_a_secret_option_does_not_echo_it(home: JupyterHome, args: list[str]) -> None:
    """The option is named, its value never."""
    out = hardening(home, *args)
    one_line_exit_2(out, "unknown option")
    assert "S3cretHash" not in out.stdout + out.stderr


def test_typo_in_a_config_file_names_file_and_line(home: JupyterHome) -> None:
    """c.ServerApp.ipp in a file: file:line and a did-you-mean, exit 2."""
    path = home.write_config("c = get_config()\n\nc.ServerApp.ipp = '0.0.0.0'\n")
    one_line_exit_2(hardening(home, "check"), f"{path}:3: ServerApp has no setting 'ipp'")


def test_legacy_file_whose_settings_are_dropped(home: JupyterHome) -> None:
    """A wrong-typed legacy token makes notebook fail to link: a finding naming the file and the
    settings lost, the token never shown, no traceback."""
    path = home.write_config(
        "c.NotebookApp.token = ['S3CRET-token-value']\nc.NotebookApp.ip = '*'\n",
        "jupyter_notebook_config.py",
    )
    out = hardening(home, "check", "--format", "json")
    assert "S3CRET" not in out.stdout + out.stderr and "Traceback" not in out.stderr
    assert out.returncode == 1, out.stderr
    (finding,) = [f for f in json.loads(out.stdout)["findings"] if f["id"] == "JH005"]
    assert f"{path} (NotebookApp.token, NotebookApp.ip)" in finding["message"]
    assert "'notebook' failed to link" in finding["message"]


def test_missing_extension_is_a_finding(home: JupyterHome) -> None:
    """{'voila': True} without voila: one finding naming where it was enabled, no traceback."""
    path = home.write_config("c.ServerApp.jpserver_extensions = {'voila_not_installed': True}\n")
    out = hardening(home, "check")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip() == "", out.stderr
    assert "JH004 extension-missing" in out.stdout
    assert f"enabled in {path}:1, cannot be imported" in out.stdout


def test_missing_extension_is_found_by_the_served_server_too(home: JupyterHome) -> None:
    """The running server reports the same finding on /hardening."""
    import requests

    home.write_config(
        "c.ServerApp.jpserver_extensions = {'voila_not_installed': True}\n"
        "c.IdentityProvider.token = 'a8f3c2e1d4b5a6978812345678abcdef0123456789abcdef'\n"
    )
    with running(home) as server:
        token = "a8f3c2e1d4b5a6978812345678abcdef0123456789abcdef"
        report = requests.get(
            server.url("hardening"),
            headers={"Authorization": f"token {token}", "Accept": "application/json"},
            timeout=10,
        ).json()
    assert "JH004" in {f["id"] for f in report["findings"]}


def help_examples() -> list[tuple[str, str]]:
    """(subcommand, example line) for every example in every subcommand's --help text."""
    from jupyter_hardening.check import CheckApp
    from jupyter_hardening.cli import HardeningApp
    from jupyter_hardening.snippet import NginxSnippetApp
    from jupyter_hardening.systemd import SystemdUnitApp

    found = []
    for app in (HardeningApp, CheckApp, NginxSnippetApp, SystemdUnitApp):
        text = str(app.examples).replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("jupyter hardening"):
                found.append((app.__name__, line))
    return found


@pytest.mark.parametrize(("app", "example"), help_examples(), ids=lambda v: v)
def test_every_help_example_runs_as_written(
    home: JupyterHome, tmp_path: Path, app: str, example: str
) -> None:
    """Each example, in an isolated home, with a server running where it needs one."""
    argv = shlex.split(example)[2:]
    # Files the examples name, made inside the test's folders instead of the system's.
    replacements = {
        "/etc/systemd/system/jupyter.service": str(tmp_path / "jupyter.service"),
        "/etc/nginx/conf.d/jupyter.conf": str(tmp_path / "jupyter.conf"),
        "/etc/ssl/jupyter/fullchain.pem": str(tmp_path / "fullchain.pem"),
        "/etc/ssl/jupyter/privkey.pem": str(tmp_path / "privkey.pem"),
        "/srv/jupyter/work": str(tmp_path / "work"),
    }
    argv = [replacements.get(a, a) for a in argv]
    (tmp_path / "work").mkdir()
    from cryptography.hazmat.primitives.asymmetric import ec

    from .certs import make_cert, write_cert, write_key

    live = tmp_path / "live" / "jupyter.example.com"
    live.mkdir(parents=True)
    for folder, cert, key in ((tmp_path, "fullchain.pem", "privkey.pem"), (live, "fullchain.pem", "privkey.pem")):
        private = ec.generate_private_key(ec.SECP256R1())
        write_key(folder / key, private)
        write_cert(folder / cert, make_cert(private, "jupyter.example.com"))
    if "--letsencrypt" in argv:
        argv.insert(argv.index("--letsencrypt"), f"--letsencrypt-live={tmp_path / 'live'}")
    for path in ("etc/jupyter_server_config.py", "etc/jupyter_notebook_config.json"):
        target = home.work_dir / path
        target.parent.mkdir(exist_ok=True)
        target.write_text("{}\n" if path.endswith(".json") else "c.ServerApp.port = 8888\n")
    if "--user" in argv:
        argv[argv.index("--user") + 1] = "root"  # an account that exists on this machine
    needs_server = argv[0] == "nginx-snippet" and "--upstream" not in argv
    if needs_server:
        port = argv[argv.index("--port") + 1] if "--port" in argv else None
        with running(home, port=int(port) if port else None):
            out = hardening(home, *argv)
    else:
        out = hardening(home, *argv)
    assert out.returncode in (0, 1), (example, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "unknown option" not in out.stderr, out.stderr
