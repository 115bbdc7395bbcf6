"""Secrets at rest, against real `jupyter server` processes: a guessable cookie secret forges a
login (JH207), secret files readable by others (JH208, with a chmod fix that clears it), and
files that are no files (FIFOs, devices, huge ones) refused cleanly instead of hanging."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tornado.web import create_signed_value

from jupyter_hardening.atrest import secret_strength
from jupyter_hardening.printable import printable, shell_word
from jupyter_hardening.safefile import CERT_LIMIT, SECRET_LIMIT, FileRefused, read_bounded
from jupyter_hardening.snapshot import token_strength

from .certs import TLSFiles
from .cli import hardening
from .servers import JupyterHome, free_port, port_open, running, start


def api_me(port: int, cookie: str) -> int:
    """The status of GET /api/me with only ``cookie`` as credentials."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/me", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["identity"]["username"] == "mallory"
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def forged_cookie(secret: bytes, port: int) -> str:
    """A login cookie for user 'mallory', signed as jupyter_server signs it, with ``secret``."""
    user = {
        "username": "mallory",
        "name": "mallory",
        "display_name": "mallory",
        "initials": "M",
        "avatar_url": None,
        "color": None,
    }
    name = f"username-127-0-0-1-{port}"  # IdentityProvider.get_cookie_name for this Host
    value = create_signed_value(secret, name, json.dumps(user)).decode()
    return f"{name}={value}"


def password_login(port: int, password: str) -> int:
    """The status of posting ``password`` to the login form, as a browser posts it."""
    import requests

    origin = f"http://127.0.0.1:{port}"
    with requests.Session() as session:
        session.get(f"{origin}/login", timeout=10).raise_for_status()
        form = {"password": password, "_xsrf": session.cookies.get("_xsrf", "")}
        reply = session.post(
            f"{origin}/login",
            data=form,
            headers={"Origin": origin},
            allow_redirects=False,
            timeout=10,
        )
        return int(reply.status_code)


def findings(log: str, rule_id: str) -> list[str]:
    """The log lines of ``rule_id``'s findings."""
    return [line for line in log.splitlines() if f"[jupyter_hardening] {rule_id} " in line]


def test_guessable_cookie_secret_forges_a_login(home: JupyterHome, password) -> None:
    """With c.ServerApp.cookie_secret = b'secret' and a password, a cookie forged with tornado's
    create_signed_value gets /api/me 200 — JH207 says so. With the generated secret the same
    forgery is refused, and JH207 is quiet."""
    _, hashed = password
    base = f"c.PasswordIdentityProvider.hashed_password = {hashed!r}\n"
    home.write_config(
        base + "c.ServerApp.cookie_secret = b'secret'\nc.Hardening.refuse_at = 'never'\n"
    )
    with running(home) as server:
        assert api_me(server.port, forged_cookie(b"secret", server.port)) == 200
        (line,) = findings(server.log, "JH207")
    assert "The cookie secret (ServerApp.cookie_secret) is 6 bytes" in line
    assert "Fix: remove c.ServerApp.cookie_secret" in line and "b'secret'" not in line

    home.write_config(base)  # the fix applied: jupyter_server's generated secret
    with running(home) as server:
        assert api_me(server.port, forged_cookie(b"secret", server.port)) == 403
        assert findings(server.log, "JH207") == []

    # Not accepted, the finding is a refusal before the port opens.
    home.write_config(base + "c.ServerApp.cookie_secret = b'secret'\n")
    port = free_port()
    refused = start(home, port=port)
    assert refused.proc.wait(timeout=60) == 1, refused.log
    assert not port_open(port) and "JH207 weak-cookie-secret" in refused.log


def test_word_in_cookie_secret_file_is_found_through_the_hmac(home: JupyterHome, password) -> None:
    """The default signs with HMAC(file bytes, password hashes): the file's strength counts, and
    its bytes are never printed."""
    _, hashed = password
    secret_file = home.root / "cookie_secret"
    secret_file.write_bytes(b"jupyter\n")
    secret_file.chmod(0o600)
    home.write_config(
        f"c.PasswordIdentityProvider.hashed_password = {hashed!r}\n"
        f"c.ServerApp.cookie_secret_file = {str(secret_file)!r}\n"
        "c.Hardening.refuse_at = 'never'\n"
    )
    with running(home) as server:
        (line,) = findings(server.log, "JH207")
    assert "ServerApp.cookie_secret_file holds 8 bytes" in line and "delete the file" in line
    assert "jupyter\\n" not in server.log


def test_secret_files_readable_by_others_and_the_chmod_fix(home: JupyterHome, password) -> None:
    """cookie_secret_file, JUPYTER_TOKEN_FILE and the config file `jupyter server password`
    wrote, each 0644: JH208 each, with `chmod 600 PATH`. Running the fixes clears them all."""
    _, hashed = password
    cookie = home.root / "cookie secret"  # a space: the fix must quote the path
    cookie.write_bytes(base64.encodebytes(os.urandom(32)))
    token = home.root / "token"
    token.write_text("3f1c0ffee5d7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f")
    config = home.config_dir / "jupyter_server_config.json"
    config.write_text(json.dumps({"IdentityProvider": {"hashed_password": hashed}}))
    home.write_config(
        f"c.ServerApp.cookie_secret_file = {str(cookie)!r}\nc.Hardening.refuse_at = 'never'\n"
    )
    for path in (cookie, token, config):
        path.chmod(0o644)
    env = {"JUPYTER_TOKEN_FILE": str(token)}
    with running(home, env=env) as server:
        lines = findings(server.log, "JH208")
    assert len(lines) == 3, server.log
    fixes = [re.search(r"Fix: .*?(chmod 600 .*)$", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert sorted(fixes) == sorted(
        f"chmod 600 {shlex.quote(str(p))}" for p in (cookie, token, config)
    )
    assert all("0644" in line for line in lines)
    for fix in fixes:
        subprocess.run(fix, shell=True, check=True)  # noqa: S602 - the fix as a user runs it
    with running(home, env=env) as server:
        assert findings(server.log, "JH208") == []
    assert "3f1c0ffee5d7" not in server.log and hashed not in server.log


@pytest.mark.parametrize(
    ("command", "file_name", "section"),
    [
        # The notebook 6 recipe (`jupyter notebook password`), still applied by plain
        # `jupyter server`: notebook's app reads the file and forwards NotebookApp.password.
        ("jupyter-server", "jupyter_notebook_config.json", "NotebookApp"),
        ("jupyter-lab", "jupyter_lab_config.json", "ServerApp"),
    ],
)
def test_password_hash_in_an_extension_apps_config_file(
    home: JupyterHome, password, command: str, file_name: str, section: str
) -> None:
    """A hash in a config file an extension app loaded (not the ServerApp) is found too: the
    server logs in with it, so that file readable by others is JH208, and its chmod clears it."""
    secret, hashed = password
    config = home.config_dir / file_name
    config.write_text(json.dumps({section: {"password": hashed}}))
    config.chmod(0o644)
    home.write_config("c.Hardening.refuse_at = 'never'\n")
    with running(home, command=command) as server:
        lines = findings(server.log, "JH208")
        # The password in that file is in force: it logs in, another one does not.
        assert password_login(server.port, secret) == 302
        assert password_login(server.port, secret + "x") != 302
    assert len(lines) == 1, server.log
    assert f"fix: chmod 600 {shlex.quote(str(config))}" in lines[0].lower(), lines[0]
    out = hardening("check", "--format", "json", home=home)
    assert "JH208" in {f["id"] for f in json.loads(out.stdout)["findings"]}, out.stdout
    subprocess.run(["chmod", "600", str(config)], check=True)
    with running(home, command=command) as server:
        assert findings(server.log, "JH208") == []
    assert hashed not in server.log and secret not in server.log


def test_a_hash_split_or_escaped_in_a_config_file_is_found(home: JupyterHome) -> None:
    """The hash written in two string pieces in a .py, or with JSON's \\/ escapes in a .json:
    traitlets joins and unescapes it, and the audit looked for it as one exact string (found in
    review). Both files 0644: JH208 for each, without the hash in the output."""
    from jupyter_server.auth.security import passwd

    hashed = next(
        h for h in (passwd("correct horse battery staple") for _ in range(50)) if "/" in h
    )
    half = len(hashed) // 2
    py = home.write_config(
        f"c.PasswordIdentityProvider.hashed_password = (\n    {hashed[:half]!r}\n    {hashed[half:]!r}\n)\n"
    )
    js = home.config_dir / "jupyter_notebook_config.json"
    js.write_text('{"NotebookApp": {"password": "' + hashed.replace("/", "\\/") + '"}}')
    assert hashed not in py.read_text() and hashed not in js.read_text()
    for path in (py, js):
        path.chmod(0o644)
    out = hardening("check", "--format", "json", home=home)
    files = {
        w["file"]
        for f in json.loads(out.stdout)["findings"]
        if f["id"] == "JH208"
        for w in f["where"]
    }
    assert {str(py), str(js)} <= files, out.stdout
    assert hashed not in out.stdout + out.stderr


@pytest.fixture
def odd_files(tmp_path: Path) -> dict[str, str]:
    """A FIFO (nobody writes into it), a device that never ends, and a huge sparse file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge"
    with huge.open("wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: no disk used
    return {"fifo": str(fifo), "device": "/dev/zero", "huge": str(huge)}


REASONS = {
    "fifo": "is a named pipe (FIFO), not a regular file",
    "device": "is a character device, not a regular file",
    "huge": "is larger than 64 KiB",
}


def run_until_exit(home: JupyterHome, *args: str, env: dict[str, str], timeout: float = 60):
    """Start a server that must refuse; fail if it is still running after ``timeout``."""
    port = free_port()
    server = start(home, *args, port=port, env=env)
    try:
        server.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.stop()
        raise AssertionError(f"server hung:\n{server.log}") from None
    assert not port_open(port)
    return server


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_token_file_that_is_no_file_refuses_at_once(
    home: JupyterHome, odd_files: dict[str, str], kind: str
) -> None:
    """JUPYTER_TOKEN_FILE as a FIFO hung jupyter_server forever, /dev/zero read until memory ran
    out: now one CRITICAL line naming the setting, exit 1, in seconds."""
    started = time.monotonic()
    server = run_until_exit(home, env={"JUPYTER_TOKEN_FILE": odd_files[kind]})
    assert server.proc.returncode == 1, server.log
    assert time.monotonic() - started < 30
    assert f"JUPYTER_TOKEN_FILE={odd_files[kind]!r} cannot be read ({REASONS[kind]})" in server.log
    assert "Traceback" not in server.log


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_cookie_secret_file_that_is_no_file_refuses_at_once(
    home: JupyterHome, odd_files: dict[str, str], kind: str
) -> None:
    """jupyter_server reads cookie_secret_file with open().read() while it builds its settings:
    the preflight refuses first, naming the setting."""
    home.write_config(f"c.ServerApp.cookie_secret_file = {odd_files[kind]!r}\n")
    server = run_until_exit(home, env={})
    assert server.proc.returncode == 1, server.log
    needle = f"ServerApp.cookie_secret_file = {odd_files[kind]!r} cannot be read ({REASONS[kind]})"
    assert needle in server.log and "Traceback" not in server.log


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_certificate_that_is_no_file_is_a_finding(
    home: JupyterHome, odd_files: dict[str, str], kind: str, tmp_path: Path
) -> None:
    """A certfile or keyfile that is a FIFO, a device or 512 MiB: JH401 naming it, no hang."""
    TLSFiles(tmp_path).pair("good")
    reason = REASONS[kind].replace("64 KiB", "4 MiB")
    for setting, args in (
        ("ServerApp.certfile", (f"--certfile={odd_files[kind]}", f"--keyfile={tmp_path}/good.key")),
        ("ServerApp.keyfile", (f"--certfile={tmp_path}/good.pem", f"--keyfile={odd_files[kind]}")),
    ):
        server = run_until_exit(home, *args, env={})
        assert server.proc.returncode == 1, server.log
        lines = findings(server.log, "JH401")
        assert any(f"{setting} {odd_files[kind]!r} {reason}" in line for line in lines), lines


def test_check_refuses_a_fifo_token_file(home: JupyterHome, odd_files: dict[str, str]) -> None:
    """`jupyter hardening check` runs the same preflight: one line, exit 2, no hang."""
    out = hardening("check", home=home, env={"JUPYTER_TOKEN_FILE": odd_files["fifo"]}, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert REASONS["fifo"] in out.stderr and "Traceback" not in out.stderr


def test_read_bounded(tmp_path: Path, odd_files: dict[str, str]) -> None:
    """Regular files up to the limit are read whole; anything else is FileRefused (an OSError)."""
    ok = tmp_path / "ok"
    ok.write_bytes(b"x" * SECRET_LIMIT)
    assert read_bounded(str(ok), SECRET_LIMIT) == b"x" * SECRET_LIMIT
    ok.write_bytes(b"x" * (SECRET_LIMIT + 1))
    with pytest.raises(FileRefused, match="larger than 64 KiB"):
        read_bounded(str(ok), SECRET_LIMIT)
    for kind, path in odd_files.items():
        with pytest.raises(OSError, match=re.escape(REASONS[kind].replace("64 KiB", "4 MiB"))):
            read_bounded(path, CERT_LIMIT)
    with pytest.raises(FileRefused, match="a folder"):
        read_bounded(str(tmp_path), SECRET_LIMIT)
    link = tmp_path / "link"
    link.symlink_to(ok)  # certbot's live/ files are links: followed
    assert len(read_bounded(str(link), 2 * SECRET_LIMIT)) == SECRET_LIMIT + 1
    with pytest.raises(FileRefused, match="belongs to uid"):
        read_bounded(str(ok), 2 * SECRET_LIMIT, owner=os.getuid() + 1)


def test_secret_strength() -> None:
    """Words and repeats are weak; jupyter_server's own key and random bytes are strong."""
    assert secret_strength(b"secret") < 20
    assert secret_strength(b"\x00" * 32) == 0
    assert secret_strength(base64.encodebytes(os.urandom(32))) > 200
    assert secret_strength(os.urandom(16)) >= 100


@pytest.mark.parametrize(
    "secret",
    [b"SECRET123" * 8, bytes(range(32)), b"0123456789abcdef" * 2, b"\x00\x01" * 100, b"ab" * 40],
)
def test_a_repeated_or_counting_secret_is_weak(secret: bytes) -> None:
    """A short unit repeated, or a count, scores as little as the unit or the count: the
    character counts alone rated these 192-265 bits (review finding)."""
    assert secret_strength(secret) < 80
    assert token_strength(secret.decode("latin-1")) < 80


def test_generated_secrets_stay_strong() -> None:
    """What jupyter_server and the fixes generate never scores under the bar (1000 draws)."""
    import secrets

    for _ in range(1000):
        assert secret_strength(os.urandom(32)) >= 200
        assert token_strength(secrets.token_hex(24)) >= 80
        assert secret_strength(base64.encodebytes(os.urandom(32))) >= 80


def test_chmod_shows_without_a_restart(tmp_path: Path) -> None:
    """The live report's re-check (refresh_files) re-reads the secret files' modes."""
    from jupyter_hardening.atrest import SecretFile
    from jupyter_hardening.report import run_rules
    from jupyter_hardening.snapshot import Snapshot, refresh_files

    token = tmp_path / "token"
    token.write_text("x")
    token.chmod(0o644)
    snap = Snapshot(secret_files=(SecretFile("JUPYTER_TOKEN_FILE", str(token), 0o644),))
    assert "JH208" in {f.id for f in run_rules(snap)}
    token.chmod(0o600)
    assert "JH208" not in {f.id for f in run_rules(refresh_files(snap))}


def test_check_agrees_with_the_server(home: JupyterHome) -> None:
    """`jupyter hardening check` judges the same cookie secret and secret files the server does."""
    home.write_config("c.ServerApp.cookie_secret = b'secret'\n")
    out = hardening("check", "--format", "json", home=home)
    assert out.returncode == 1, out.stderr
    assert "JH207" in {f["id"] for f in json.loads(out.stdout)["findings"]}
    assert "b'secret'" not in out.stdout and "b\\'secret" not in out.stdout


@pytest.mark.parametrize(
    "name",
    [
        "plain.key",
        "with space's.key",
        "esc\x1b[31mred\nnewline.key",
        "bytes-\udcff.key",
        "nbsp\xa0.key",
    ],
)
def test_a_suggested_chmod_names_the_file_exactly(tmp_path: Path, name: str) -> None:
    """The fix's file name, quoted for bash, is the file itself, and prints on one line with
    nothing a terminal acts on (JH208, JH404, JH-hub's chmod lines share shell_word)."""
    path = os.path.join(os.fsencode(tmp_path), os.fsencode(name))
    Path(os.fsdecode(path)).write_text("x")
    os.chmod(path, 0o644)
    word = shell_word(os.fsdecode(path))
    assert word.isprintable() and printable(word) == word
    subprocess.run(["bash", "-c", f"chmod 600 {word}"], check=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
