"""The extension in real `jupyter server` / `jupyter lab` / `jupyter notebook` processes.

Installed with pip and nothing else: these processes get a fresh JUPYTER_CONFIG_DIR, so the
extension can only be on through the wheel's etc/jupyter/jupyter_server_config.d file.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from .cli import hardening
from .servers import JupyterHome, free_port, jupyter_bin, port_open, running, runtime_info, start


def run_until_exit(
    home: JupyterHome, *args: str, command: str = "jupyter-server", timeout: float = 60
):
    """Start a server expected to refuse; poll its port the whole time. Return (server, was_open)."""
    port = free_port()
    server = start(home, *args, command=command, port=port)
    was_open = False
    deadline = time.monotonic() + timeout
    while server.proc.poll() is None:
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"server did not exit within {timeout}s:\n{server.log}")
        was_open = was_open or port_open(port)
        time.sleep(0.02)
    return server, was_open or port_open(port)


def assert_refused(server, was_open: bool, *rule_ids: str) -> None:
    """Exit 1, CRITICAL lines with each rule and its fix, the port never opened, no runtime file."""
    log = server.log
    assert server.proc.returncode == 1, log
    assert not was_open, "the port accepted connections before the refusal"
    assert "[C " in log and "Refusing to start" in log, log
    for rule_id in rule_ids:
        assert f"] [jupyter_hardening] {rule_id} " in log, log
    assert "Fix: " in log and "Hint: " in log and "c.Hardening.accepted_risks" in log
    assert "Traceback" not in log, log


def test_refuses_all_interfaces_without_tls(home: JupyterHome) -> None:
    """`jupyter server --ip=0.0.0.0`: exit 1 before the port is ever bound."""
    server, was_open = run_until_exit(home, "--ip=0.0.0.0")
    assert_refused(server, was_open, "JH101")
    assert runtime_info(home) == []


def test_refuses_under_jupyter_lab(home: JupyterHome) -> None:
    """The same refusal when JupyterLab is the starter application."""
    home.write_config("c.ServerApp.allow_origin = '*'\n")
    server, was_open = run_until_exit(home, command="jupyter-lab")
    assert_refused(server, was_open, "JH301")


def test_refuses_legacy_notebook_config(home: JupyterHome) -> None:
    """A seed-style jupyter_notebook_config.py with NotebookApp names, under `jupyter notebook`."""
    home.write_config(
        "c.NotebookApp.allow_origin = '*'\n"
        "c.NotebookApp.password = u'sha1:5952f1c3c7ec:16852a1f8ee36f7cb716b74d3e0127efee106c1c'\n",
        name="jupyter_notebook_config.py",
    )
    server, was_open = run_until_exit(home, command="jupyter-notebook")
    assert_refused(server, was_open, "JH301")
    assert "JH203 weak-password-hash" in server.log


@pytest.mark.parametrize("command", ["jupyter-server", "jupyter-lab"])
def test_warn_mode_starts_and_logs(home: JupyterHome, command: str) -> None:
    """refuse_at = 'never': the server starts and logs each finding at its severity with its fix."""
    home.write_config("c.Hardening.refuse_at = 'never'\n")
    with running(home, "--ip=0.0.0.0", command=command) as server:
        log = server.log
    assert "[E " in log and "JH101 remote-without-tls" in log
    # The fix names the flag that set the value first, then the config line.
    assert "Fix: change or remove --ip=0.0.0.0 on the command line; c.ServerApp.ip" in log, log
    assert "verdict warn" in log and "Refusing" not in log


def test_accepted_risk_starts(home: JupyterHome) -> None:
    """An accepted finding is reported with its reason and does not refuse."""
    home.write_config("c.Hardening.accepted_risks = {'JH101': 'isolated lab VLAN'}\n")
    with running(home, "--ip=0.0.0.0") as server:
        log = server.log
    assert "JH101 remote-without-tls (accepted: isolated lab VLAN)" in log


@pytest.mark.parametrize("command", ["jupyter-server", "jupyter-lab", "jupyter-notebook"])
def test_default_server_is_quiet_and_enabled(home: JupyterHome, command: str) -> None:
    """Default settings: the extension loads (from the wheel's config), verdict ok, no warnings —
    under each of the three starters."""
    with running(home, command=command) as server:
        log = server.log
    assert "jupyter_hardening | extension was successfully loaded." in log, log
    assert "[jupyter_hardening] verdict ok: 0 error, 0 warning" in log, log
    hardening_lines = [line for line in log.splitlines() if "[jupyter_hardening]" in line]
    assert not [line for line in hardening_lines if line.startswith(("[W ", "[E ", "[C "))]


def test_extension_list_shows_enabled(home: JupyterHome) -> None:
    """`jupyter server extension list` shows jupyter_hardening enabled and OK after pip install."""
    out = subprocess.run(
        [jupyter_bin("jupyter-server"), "extension", "list"],
        capture_output=True,
        text=True,
        env=home.env(),
        timeout=60,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert "jupyter_hardening enabled" in text, text
    assert re.search(r"jupyter_hardening \S+ OK", text), text


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ("c.Hardening.refuse_at = 'sometimes'\n", "refuse_at"),
        ("c.Hardening.public_url = 'jupyter.example.com'\n", "c.Hardening.public_url"),
        ("c.Hardening.accepted_risks = {'JH101': ''}\n", "needs a reason"),
    ],
    ids=["bad-refuse-at", "public-url-not-url", "risk-without-reason"],
)
def test_bad_hardening_config_refuses_clearly(home: JupyterHome, config: str, needle: str) -> None:
    """A wrong c.Hardening value: one CRITICAL message naming the setting, exit 1, no traceback."""
    home.write_config(config)
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1 and not was_open
    assert needle in server.log and "[C " in server.log and "Traceback" not in server.log, (
        server.log
    )


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ("c.ServerApp.ip = 'nosuchhost.invalid'\n", "ServerApp.ip = 'nosuchhost.invalid'"),
        ("c.ServerApp.ip = '[::1]'\n", "ServerApp.ip = '[::1]'"),
        (
            "c.ServerApp.allow_origin_pat = '(https://'\n",
            "ServerApp.allow_origin_pat is not a valid",
        ),
        ("c.ServerApp.base_url = '/a(b/'\n", "ServerApp.base_url = '/a(b/' breaks"),
        (
            "c.ServerApp.base_url = '/(?P<path>x)/'\n",
            "ServerApp.base_url = '/(?P<path>x)/' breaks",
        ),
    ],
    ids=[
        "ip-does-not-resolve",
        "ip-in-brackets",
        "origin-pattern-not-a-regex",
        "base-url-paren",
        "base-url-named-group",
    ],
)
def test_settings_that_crash_the_server_refuse_cleanly(
    home: JupyterHome, config: str, needle: str
) -> None:
    """Without the extension these end in a traceback (notebook_shim, init_webapp): here a
    refusal naming the setting and its fix, before the port opens."""
    home.write_config(config)
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1 and not was_open, server.log
    assert f"[jupyter_hardening] Refusing to start: {needle}" in server.log, server.log
    assert "Fix: " in server.log and "Traceback" not in server.log, server.log


def test_unreadable_token_file_refuses_cleanly(home: JupyterHome, tmp_path) -> None:
    """JUPYTER_TOKEN_FILE pointing nowhere is a traceback in init_webapp without the extension;
    here a refusal naming it, before the port opens. A configured token makes the file unused."""
    missing = str(tmp_path / "no-such-token-file")
    port = free_port()
    server = start(home, port=port, env={"JUPYTER_TOKEN_FILE": missing})
    assert server.proc.wait(timeout=60) == 1, server.log
    assert not port_open(port)
    assert f"Refusing to start: JUPYTER_TOKEN_FILE={missing!r} cannot be read" in server.log
    assert "Fix: " in server.log and "Traceback" not in server.log, server.log

    home.write_config("c.IdentityProvider.token = 'a-configured-token-of-32-characters'\n")
    out = hardening("check", home=home, env={"JUPYTER_TOKEN_FILE": missing})
    assert out.returncode == 0, out.stdout + out.stderr


def test_token_of_a_custom_identity_provider_makes_the_token_file_unused(
    home: JupyterHome, tmp_path
) -> None:
    """c.MyProvider.token (a custom identity_provider_class) replaces the default that reads
    JUPYTER_TOKEN_FILE: jupyter_server starts without the file, so no refusal."""
    home.write_config(
        "from jupyter_server.auth.identity import PasswordIdentityProvider\n"
        "class MyProvider(PasswordIdentityProvider):\n"
        "    pass\n"
        "c.ServerApp.identity_provider_class = MyProvider\n"
        "c.MyProvider.token = 'a-configured-token-of-32-characters'\n"
    )
    out = hardening(
        "check", home=home, env={"JUPYTER_TOKEN_FILE": str(tmp_path / "no-such-token-file")}
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_token_file_with_a_newline_is_flagged(home: JupyterHome, tmp_path) -> None:
    """`echo TOKEN > file`: jupyter_server keeps the newline and refuses the token as people
    copy it; the extension says so (JH206, a warning: the server still starts)."""
    token = "0123456789abcdef" * 3
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    with running(home, env={"JUPYTER_TOKEN_FILE": str(token_file)}) as server:
        request = urllib.request.Request(
            server.url("api/status"), headers={"Authorization": f"token {token}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        log = server.log
    assert refused.value.code == 403
    assert "[W " in log and "JH206 token-whitespace" in log, log
    assert token not in log


@pytest.mark.parametrize(
    "option", ["--IdentityProvider.token", "--PasswordIdentityProvider.hashed_password"]
)
def test_a_secret_given_twice_refuses_without_the_values(home: JupyterHome, option: str) -> None:
    """jupyter_server would end in a traceback whose last line lists both values ("token only
    accepts one value, got 2: [...]"): a refusal naming the option instead, nothing repeated."""
    server, was_open = run_until_exit(home, f"{option}=first-s3cret", f"{option}=second-s3cret")
    assert server.proc.returncode == 1 and not was_open, server.log
    assert f"Refusing to start: {option} is given 2 times on the command line" in server.log
    assert "s3cret" not in server.log and "Traceback" not in server.log, server.log


def test_public_url_password_is_not_logged(home: JupyterHome) -> None:
    """A public_url with user:password in it is refused without writing the password to the log."""
    home.write_config("c.Hardening.public_url = 'https://admin:hunter2x@jupyter.example.com/'\n")
    server, was_open = run_until_exit(home)
    assert server.proc.returncode == 1 and not was_open, server.log
    assert "c.Hardening.public_url" in server.log and "[C " in server.log, server.log
    assert "hunter2x" not in server.log, server.log


def test_missing_certificate_refuses_before_bind(home: JupyterHome) -> None:
    """The seeds' placeholder cert path is a JH401 refusal, not a traceback at bind time."""
    home.write_config(
        "c.ServerApp.certfile = '/your/home/.jupyter/mycert.pem'\n"
        "c.ServerApp.keyfile = '/your/home/.jupyter/mykey.key'\n"
    )
    server, was_open = run_until_exit(home)
    assert_refused(server, was_open, "JH401")


def test_refuses_security_keys_in_tornado_settings(home: JupyterHome) -> None:
    """tornado_settings is applied over jupyter_server's own settings: a compiled allow_origin_pat
    there (the trait only takes a str) opens the server to every origin, and must refuse."""
    home.write_config(
        "import re\n"
        "c.ServerApp.tornado_settings = {'allow_origin_pat': re.compile('.*'),"
        " 'disable_check_xsrf': True}\n"
    )
    server, was_open = run_until_exit(home)
    assert_refused(server, was_open, "JH301", "JH205")
    assert "ServerApp.tornado_settings['allow_origin_pat']" in server.log


def test_an_address_in_local_hostnames_does_not_pass_the_host_check(home: JupyterHome) -> None:
    """What JH704 says of a proxy reached by address, shown on a real server: listing the address
    in local_hostnames still answers 403; allow_remote_access lets it through."""
    host = {"Host": "203.0.113.5:8443"}
    home.write_config("c.ServerApp.local_hostnames = ['localhost', '203.0.113.5']\n")
    with running(home) as server, pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(server.url("login"), headers=host))
    assert refused.value.code == 403
    home.write_config("c.ServerApp.allow_remote_access = True\n")
    with running(home) as server:
        request = urllib.request.Request(server.url("login"), headers=host)
        with urllib.request.urlopen(request) as reply:
            assert reply.status == 200
