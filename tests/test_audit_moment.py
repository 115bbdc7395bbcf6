"""One moment, one truth: the audit judges the server after every extension has loaded.

Real `jupyter server` / `jupyter lab` / `jupyter notebook` processes and `jupyter hardening check`
on the same configs: settings that jupyterlab merges when it loads (c.LabApp.settings), config
files that fail to load, an exception inside the audit, legacy names forwarded after we link.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import websocket

from .cli import hardening
from .nginx_util import JupyterClient, run_code
from .servers import JupyterHome, running, start
from .test_startup import assert_refused, run_until_exit

ATTACKER = "https://attacker.example"
LAB_ORIGIN_ANY = "c.LabApp.settings = {'allow_origin_pat': '.*'}\n"


def check(home: JupyterHome, *args: str) -> subprocess.CompletedProcess[str]:
    """`jupyter hardening check --format json` in ``home``."""
    return hardening("check", "--format", "json", *args, home=home)


def password_config(password: tuple[str, str]) -> str:
    return f"c.PasswordIdentityProvider.hashed_password = {password[1]!r}\n"


def test_lab_settings_origin_pattern_is_refused_at_startup(
    home: JupyterHome, password: tuple[str, str]
) -> None:
    """jupyterlab merges c.LabApp.settings after we load: the audit still sees it, and refuses."""
    home.write_config(password_config(password) + LAB_ORIGIN_ANY, "jupyter_lab_config.py")
    server, was_open = run_until_exit(home, command="jupyter-lab")
    assert_refused(server, was_open, "JH301")
    assert "c.LabApp.settings" in server.log, server.log
    result = check(home)
    assert result.returncode == 1, result.stderr
    assert [f["id"] for f in json.loads(result.stdout)["findings"]][:1] == ["JH301"]


def test_what_the_report_says_the_websocket_shows(
    home: JupyterHome, password: tuple[str, str]
) -> None:
    """With refuse_at = 'never' the server runs: the report names JH301 and a kernel websocket
    opened by a page of another origin runs code, as the finding says. Without the setting the
    same websocket is refused (so this test can fail)."""
    config = password_config(password) + "c.Hardening.refuse_at = 'never'\n"
    for lab_settings, admitted in ((LAB_ORIGIN_ANY, True), ("", False)):
        home.write_config(config + lab_settings, "jupyter_lab_config.py")
        with running(home, command="jupyter-lab") as server:
            origin = f"http://127.0.0.1:{server.port}"
            client = JupyterClient(origin, "/", None)
            assert client.login(password[0]).status_code == 302
            report = client.api("GET", "hardening", params={"format": "json"}).json()
            ids = [f["id"] for f in report["findings"]]
            assert ("JH301" in ids) == admitted, report
            if admitted:
                assert run_code(client, "6*7", ws_origin=ATTACKER) == "42"
                assert report["settings"]["extension settings overrides"] == [
                    "LabApp.settings['allow_origin_pat']"
                ]
            else:
                assert run_code(client, "6*7") == "42"  # same origin works
                with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                    run_code(client, "6*7", ws_origin=ATTACKER)
                assert refused.value.status_code == 403


def test_lab_settings_csp_is_judged_as_served(home: JupyterHome, password: tuple[str, str]) -> None:
    """A CSP in c.LabApp.settings['headers'] replaces jupyter_server's: the report judges it."""
    home.write_config(
        password_config(password)
        + "c.Hardening.refuse_at = 'never'\n"
        + "c.LabApp.settings = {'headers': {'Content-Security-Policy': \"frame-ancestors *\"}}\n",
        "jupyter_lab_config.py",
    )
    with running(home, command="jupyter-lab") as server:
        client = JupyterClient(f"http://127.0.0.1:{server.port}", "/", None)
        client.login(password[0])
        served = client.session.get(client.url("lab"), timeout=30).headers
        assert served["Content-Security-Policy"] == "frame-ancestors *"
        report = client.api("GET", "hardening", params={"format": "json"}).json()
    assert report["settings"]["Content-Security-Policy"] == "frame-ancestors *"
    assert "JH602" in [f["id"] for f in report["findings"]], report


# name: (config, the verdict both must give)
CONFIGS = {
    "clean": ("", "ok"),
    "any-origin": ("c.ServerApp.allow_origin = '*'\n", "refuse"),
    "lab-any-origin-pattern": (LAB_ORIGIN_ANY, "refuse"),
    # jupyterlab merges only keys the server has not set: this one never takes effect.
    "xsrf-in-lab-settings-not-applied": (
        "c.LabApp.settings = {'disable_check_xsrf': True}\n",
        "ok",
    ),
    "legacy-notebook-name": ("c.NotebookApp.allow_origin = '*'\n", "refuse"),
    "lab-csp-without-frame-ancestors": (
        "c.LabApp.settings = {'headers': {'Content-Security-Policy': \"default-src 'self'\"}}\n",
        "warn",
    ),
}
VERDICT = re.compile(r"\[jupyter_hardening\] verdict (\w+):")


def server_verdict(home: JupyterHome, command: str, expected: str) -> str:
    """Start ``command`` in ``home``; the verdict its log gives (waiting for the exit of a
    refusal, or until it serves)."""
    server = start(home, command=command)
    try:
        if expected == "refuse":
            server.proc.wait(90)
        else:
            server.wait_ready()
    finally:
        server.stop()
    match = VERDICT.search(server.log)
    assert match, server.log
    return match[1]


@pytest.mark.parametrize("command", ["jupyter-server", "jupyter-lab", "jupyter-notebook"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_check_and_the_server_agree(
    home: JupyterHome, password: tuple[str, str], command: str, name: str
) -> None:
    """The same configs give the same verdict from `check` and from a starting server."""
    config, expected = CONFIGS[name]
    # 0600, as `jupyter server password` writes the hash: readable by others it is JH208.
    home.write_config(password_config(password) + config, "jupyter_lab_config.py").chmod(0o600)
    result = check(home)
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["verdict"] == expected, result.stdout
    assert server_verdict(home, command, expected) == expected


BROKEN = {
    "notebook-keyerror": (
        "jupyter_notebook_config.py",
        "c = get_config()\nimport os\nc.ServerApp.password = os.environ['UNSET_PW_VAR']\n",
        ":3 ",
        "KeyError",
    ),
    "lab-syntax": ("jupyter_lab_config.py", "c.ServerApp.ip = '127.0.0.1\n", ":1 ", "SyntaxError"),
    "server-json": ("jupyter_server_config.json", '{"ServerApp": {"ip": }\n', ":1 ", "JSON"),
    "base-config": ("jupyter_config.py", "\n\nraise RuntimeError('x')\n", ":3 ", "RuntimeError"),
    # jupyter_server reads these for jpserver_extensions, and skips one that is not JSON.
    "extension-folder-json": (
        "jupyter_server_config.d/broken.json",
        '{"ServerApp": {"jpserver_extensions": {"x": true,}}}\n',
        ":1 ",
        "JSON",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_config_file_that_fails_to_load(home: JupyterHome, name: str) -> None:
    """check: exit 2, one line naming file and line; the server refuses instead of dropping it."""
    filename, text, line, reason = BROKEN[name]
    (home.config_dir / filename).parent.mkdir(exist_ok=True)
    path = home.write_config(text, filename)
    result = check(home)
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert [ln for ln in lines if "jupyter hardening check:" in ln] == lines[-1:], result.stderr
    assert f"{path}{line}" in lines[-1] and reason in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    assert "UNSET_PW_VAR" not in result.stderr or name == "notebook-keyerror"
    command = "jupyter-lab" if "lab" in filename else "jupyter-server"
    server, was_open = run_until_exit(home, command=command)
    assert server.proc.returncode == 1, server.log
    assert not was_open
    assert f"{path}{line}" in server.log and "Refusing to start" in server.log, server.log


@pytest.mark.parametrize("text", ["import sys\n\nsys.exit(0)\n", "exit()\n", "raise SystemExit\n"])
def test_config_file_that_exits_0_fails_check(home: JupyterHome, text: str) -> None:
    """exit(0) in a config file stops jupyter_server before any extension runs, without a word
    (exit status 0); check said nothing and exited 0 too (found in review): now one line."""
    path = home.write_config(text)
    result = check(home)
    assert result.returncode == 2, result
    line = result.stderr.strip().splitlines()[-1]
    assert f"{path}:{text.count(chr(10))} fails to load (SystemExit: the file calls exit())" in line


def test_the_json_beside_an_explicit_config_file(home: JupyterHome, tmp_path) -> None:
    """--config NAME.py: traitlets loads NAME.json beside it too, and a broken one was skipped
    with a traceback while the server started without its settings (found in review)."""
    given = tmp_path / "myconf.py"
    given.write_text("c.ServerApp.ip = '127.0.0.1'\n")
    beside = tmp_path / "myconf.json"
    beside.write_text('{"IdentityProvider": {"token": "abc"},\n')
    result = check(home, f"--config={given}")
    assert result.returncode == 2, result
    assert f"{beside}:2 fails to load (not valid JSON" in result.stderr.strip().splitlines()[-1]
    server, was_open = run_until_exit(home, f"--config={given}")
    assert server.proc.returncode == 1 and not was_open, server.log
    assert f"Refusing to start: the config file {beside}:2 fails to load" in server.log


@pytest.mark.parametrize("kind", ["broken-link", "folder", "fifo"])
def test_config_file_that_is_no_file(home: JupyterHome, kind: str) -> None:
    """A config file's name that traitlets skips without a word (it loads only regular files):
    a link whose target moved, a folder, a FIFO. check exits 2 and the server refuses, each with
    one line saying what is there; no hang on the FIFO."""
    path = home.config_dir / "jupyter_server_config.py"
    if kind == "broken-link":
        path.symlink_to(home.root / "moved" / "jupyter_server_config.py")
        what = "is a symbolic link to a missing file"
    elif kind == "folder":
        path.mkdir()
        what = "is a folder, not a file"
    else:
        os.mkfifo(path)
        what = "is a named pipe (FIFO), not a file"
    problem = f"the config file {path} {what}: jupyter_server skips it without a word"
    result = check(home)
    assert result.returncode == 2, result
    assert problem in result.stderr.strip().splitlines()[-1], result.stderr
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1, server.log
    assert not was_open
    assert f"Refusing to start: {problem}" in server.log, server.log
    assert f"Fix: point {path} at the config file it should be, or remove it" in server.log


def test_a_config_name_blanked_with_dev_null_is_fine(home: JupyterHome) -> None:
    """ln -s /dev/null jupyter_notebook_config.py blanks a file on purpose: no settings are lost,
    so no refusal (found in review)."""
    (home.config_dir / "jupyter_notebook_config.py").symlink_to(os.devnull)
    result = check(home)
    assert result.returncode == 0, result.stderr


def test_a_wrong_typed_legacy_secret_is_not_in_the_server_log(home: JupyterHome) -> None:
    """c.NotebookApp.token = ['S3CR3T'] makes jupyterlab fail to link; jupyter_server's warning
    and its traceback quoted the list (found in review; `check` already hid it). The warning
    stays, without the value; the audit refuses on the dropped settings (JH005)."""
    home.write_config("c.NotebookApp.token = ['S3CR3T-legacy-value']\n")
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1 and not was_open, server.log
    assert "S3CR3T" not in server.log, server.log
    assert "jupyterlab | error linking extension: TraitError: The 'token' trait" in server.log
    assert "JH005" in server.log


def test_escape_sequences_in_a_setting_are_escaped_in_the_server_log(home: JupyterHome) -> None:
    """A CSP holding terminal escapes and a newline: the finding that quotes it is one line in
    the server's log, escaped (the raw bytes reached the log: found in review)."""
    home.write_config(
        "c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "
        "\"frame-ancestors 'self' '\\x1b[1A\\x1b[2K[I ok\\nfake'\"}}\n"
        "c.Hardening.refuse_at = 'never'\n"
    )
    with running(home) as server:
        log = server.log
    lines = [line for line in log.splitlines() if "[jupyter_hardening] JH6" in line]
    assert lines, log
    assert "\x1b" not in log, log
    assert all("\\x1b[1A\\x1b[2K[I" in line for line in lines), lines


@pytest.mark.parametrize(
    ("command", "app", "expected"),
    [
        ("jupyter-server", "server", "ok"),
        ("jupyter-lab", "lab", "refuse"),
        ("jupyter-notebook", "notebook", "ok"),
    ],
)
def test_check_as_the_command_that_starts_the_server(
    home: JupyterHome, command: str, app: str, expected: str
) -> None:
    """`jupyter lab` enables jupyterlab even where jpserver_extensions disables it, and so loads
    jupyter_lab_config.py: check said OK where `jupyter lab` refused (found in review). With
    --app, check judges as that command starts the server, and the two agree."""
    home.write_config(
        "c.ServerApp.jpserver_extensions = {'jupyterlab': False, 'notebook': False}\n"
    )
    home.write_config("c.ServerApp.allow_origin = '*'\n", "jupyter_lab_config.py")
    result = check(home, f"--app={app}")
    assert result.returncode == (1 if expected == "refuse" else 0), result.stderr
    assert json.loads(result.stdout)["verdict"] == expected
    assert server_verdict(home, command, expected) == expected


def test_an_exception_in_the_audit_refuses(home: JupyterHome) -> None:
    """A setting the audit cannot read never lets the server serve unaudited."""
    home.write_config(
        "class Hostile(list):\n"
        "    def __deepcopy__(self, memo):\n"
        "        return self\n"
        "    def __iter__(self):\n"
        "        raise RuntimeError('the secret value s3cr3t')\n"
        "c.ServerApp.tornado_settings = {'local_hostnames': Hostile(['localhost'])}\n"
    )
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1, server.log
    assert not was_open
    assert "the audit failed with RuntimeError" in server.log, server.log
    assert "s3cr3t" not in server.log
    assert "extension failed loading" not in server.log.lower()


def test_legacy_origin_pattern_forwarded_after_we_link(home: JupyterHome) -> None:
    """c.NotebookApp.allow_origin_pat = '(' reaches ServerApp after our link: a clean refusal."""
    home.write_config("c.NotebookApp.allow_origin_pat = '('\n", "jupyter_notebook_config.py")
    server, was_open = run_until_exit(home, command="jupyter-notebook")
    assert server.proc.returncode == 1, server.log
    assert not was_open
    assert "allow_origin_pat is not a valid regular expression" in server.log, server.log
    assert "Traceback" not in server.log, server.log
    result = check(home)
    assert result.returncode == 2 and "allow_origin_pat" in result.stderr, result


def test_hostile_text_in_a_reason_is_escaped_everywhere(home: JupyterHome) -> None:
    """A lone surrogate, a terminal escape and a newline in an accepted-risk reason: the page is
    200, the log and `check` show them escaped (before: the page answered 500, and the newline
    started a forged line of its own)."""
    home.write_config(
        "c.Hardening.accepted_risks = {'JH101': 'lab only \\udc80 \\x1b[2J\\nJH999 forged'}\n"
        "c.IdentityProvider.token = 'a-long-random-test-token-0123456789abcdef'\n"
    )
    with running(home, "--ip=0.0.0.0") as server:
        import requests

        page = requests.get(
            server.url("hardening"),
            headers={
                "Accept": "text/html",
                "Authorization": "token a-long-random-test-token-0123456789abcdef",
            },
            timeout=30,
        )
        log = server.log
    assert page.status_code == 200, page.text
    escaped = "lab only \\udc80 \\x1b[2J\\nJH999 forged"
    assert escaped in page.text
    assert "\x1b" not in log and escaped in log, log
    assert not any(line.startswith("JH999") for line in log.splitlines()), log
    result = check(home, "--ip=0.0.0.0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"][0]["reason"] == escaped
    text = hardening("check", "--ip=0.0.0.0", home=home)
    assert escaped in text.stdout and "\nJH999" not in text.stdout, text.stdout
