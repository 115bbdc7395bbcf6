"""`jupyter hardening nginx-snippet` without a live nginx: validation against injection, `nginx -V`
parsing, the shape of the generated config, runtime-file discovery, defaults from public_url,
and the command's errors (one line, exit 2)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import crossplane
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_hardening.proxy.command import NginxSnippetApp, argv_problem
from jupyter_hardening.proxy.nginx import build_payload, generate
from jupyter_hardening.proxy.options import (
    SnippetError,
    SnippetOptions,
    Upstream,
)
from jupyter_hardening.proxy.probe import BASELINE_NGINX, NginxInfo, parse_nginx_v
from jupyter_hardening.runtime import DiscoveryError, choose_server, running_servers

from . import cli
from .cli import in_process
from .fixtures import require_tool
from .forked import Run, run_all
from .servers import JupyterHome
from .test_proxy_probe import DEBIAN, LIBRESSL_V, NGINX_ORG_V, OLD_V

TOKEN = "d34db33fc0ffee0123456789abcdef0123456789abcdef01"


def options(**kw: Any) -> SnippetOptions:
    """Typical options, overridable."""
    base: dict[str, Any] = {
        "server_name": "jupyter.example.com",
        "listen_port": 8443,
        "tls_cert": "/etc/ssl/jupyter/fullchain.pem",
        "tls_key": "/etc/ssl/jupyter/privkey.pem",
        "base_url": "/jp/",
        "upstream": Upstream(port=8888),
    }
    return SnippetOptions(**{**base, **kw})


def parsed(text: str, tmp_path: Path) -> list[dict[str, Any]]:
    """The config as crossplane reads it back (comments dropped)."""
    path = tmp_path / "snippet.conf"
    path.write_text(text)
    result = crossplane.parse(str(path), single=True, check_ctx=False, comments=False)
    assert result["status"] == "ok", result["errors"]
    block: list[dict[str, Any]] = result["config"][0]["parsed"]
    return block


def walk(
    block: list[dict[str, Any]], parents: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every directive with the names of the blocks around it."""
    found = []
    for stmt in block:
        found.append((parents, stmt))
        if "block" in stmt:
            name = " ".join([stmt["directive"], *stmt["args"]])
            found += walk(stmt["block"], (*parents, name))
    return found


# ----------------------------------------------------------------------------- nginx -V


def test_http2_syntax_follows_the_version() -> None:
    """`http2 on;` from 1.25.1, `listen ... ssl http2` before; none without the module."""
    new = generate(options(), parse_nginx_v(NGINX_ORG_V), "test")
    assert "listen 8443 ssl;" in new and "http2 on;" in new
    old = generate(options(), DEBIAN, "test")
    assert "listen 8443 ssl http2;" in old and "http2 on;" not in old
    bare = generate(options(), parse_nginx_v(OLD_V), "test")
    assert "listen 8443 ssl;" in bare and "http2" not in bare
    assert "ssl_protocols TLSv1.2;" in bare


def test_upstream_tls_protocols_follow_the_version() -> None:
    """nginx 1.12 has no TLSv1.3 keyword: proxy_ssl_protocols TLSv1.3 would fail nginx -t."""
    upstream = Upstream("https", "jupyter.internal", 8888, ca="/etc/jupyter/ca.pem")
    old = generate(options(upstream=upstream), parse_nginx_v(OLD_V), "test")
    assert "proxy_ssl_protocols TLSv1.2;" in old and "TLSv1.3" not in old
    new = generate(options(upstream=upstream), DEBIAN, "test")
    assert "proxy_ssl_protocols TLSv1.2 TLSv1.3;" in new


def test_missing_modules_are_errors() -> None:
    """auth_request and TLS need their modules; the message says what to install."""
    no_auth = parse_nginx_v(LIBRESSL_V)
    with pytest.raises(SnippetError, match="auth_request module"):
        build_payload(
            options(auth_request="http://127.0.0.1:1/a", auth_signin="https://a/"), no_auth, ""
        )
    no_ssl = NginxInfo((1, 22, 1), modules=frozenset())
    with pytest.raises(SnippetError, match="without TLS"):
        build_payload(options(), no_ssl, "")


# ----------------------------------------------------------------------------- the config


def test_header_names_server_and_companions() -> None:
    """The first lines name the server and every Jupyter setting the proxy relies on."""
    text = generate(options(), DEBIAN, "pid 4242, port 8888, base_url /jp/ (jpserver-4242.json)")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert text.startswith("# Jupyter behind nginx")
    assert (
        "# Made from the Jupyter server pid 4242, port 8888, base_url /jp/ (jpserver-4242.json)."
        in header
    )
    for line in [
        "c.ServerApp.ip = '127.0.0.1'",
        "c.ServerApp.base_url = '/jp/'",
        "c.ServerApp.local_hostnames = ['localhost', 'jupyter.example.com']",
        "c.ServerApp.trust_xheaders = True",
        "c.IdentityProvider.secure_cookie = True",
        "c.Hardening.public_url = 'https://jupyter.example.com:8443/jp/'",
    ]:
        assert f"#   {line}" in header


@pytest.mark.parametrize(("port", "host"), [(443, "$host"), (8443, "$host:8443")])
def test_host_keeps_the_public_port(port: int, host: str) -> None:
    """Jupyter compares Origin with Host: on a port other than 443, Host must carry it."""
    text = generate(options(listen_port=port), DEBIAN, "test")
    assert f"proxy_set_header Host {host};" in text
    assert "$http_host" not in text


def test_invariants(tmp_path: Path) -> None:
    """What every generated config must and must not contain, checked on the parsed tree."""
    cases = [
        options(),
        options(listen_port=443, base_url="/", http_redirect=True),
        options(
            auth_request="http://127.0.0.1:4180/oauth2/auth", auth_signin="https://a.example.com/s"
        ),
        options(upstream=Upstream(sock="/run/jupyter.sock")),
        options(location_only=True),
    ]
    for opts in cases:
        tree = walk(parsed(generate(opts, DEBIAN, "test"), tmp_path))
        names = [stmt["directive"] for _, stmt in tree]
        headers = [
            stmt["args"][0].lower() for _, stmt in tree if stmt["directive"] == "proxy_set_header"
        ]
        assert "origin" not in headers
        assert "proxy_buffering" not in names
        added = [
            (parents, stmt["args"][0])
            for parents, stmt in tree
            if stmt["directive"] == "add_header"
        ]
        assert all(name == "Strict-Transport-Security" for _, name in added)
        assert all(len(parents) == 1 for parents, _ in added), "add_header only at server level"
        for parents, stmt in tree:
            if stmt["directive"] == "proxy_set_header":
                assert parents and parents[-1].startswith("location"), "proxy headers per location"
            if stmt["directive"] == "proxy_pass" and "_jupyter_auth" not in " ".join(parents):
                target = stmt["args"][0]
                assert target in ("http://127.0.0.1:8888", "http://unix:/run/jupyter.sock:")
        jupyter = [
            stmt
            for parents, stmt in tree
            if stmt["directive"] == "location" and stmt["args"] == [opts.base_url]
        ]
        assert len(jupyter) == 1
        inside = {s["directive"]: s["args"] for s in jupyter[0]["block"]}
        assert inside["proxy_read_timeout"] == ["1d"] and inside["proxy_send_timeout"] == ["1d"]
        assert inside["client_max_body_size"] == ["512m"]
        if opts.location_only:
            assert "server" not in names and "map" not in names and "add_header" not in names
        else:
            assert names.count("server_tokens") == names.count("server")


def test_map_has_a_real_empty_key() -> None:
    """The empty key is written `''`; crossplane would turn a '""' directive into a literal."""
    text = generate(options(), DEBIAN, "test")
    assert "    '' close;" in text
    assert '""' not in text


def test_location_only_asks_for_upgrade_without_a_map() -> None:
    """A map cannot sit inside server{}; --location-only needs none."""
    text = generate(options(location_only=True), DEBIAN, "test")
    assert "proxy_set_header Connection upgrade;" in text
    assert "$jupyter_connection_upgrade" not in text


def test_auth_request_shape() -> None:
    """An internal location for the check; 401 sends the browser to sign in, with the way back."""
    text = generate(
        options(
            auth_request="http://127.0.0.1:4180/oauth2/auth",
            auth_signin="https://auth.example.com/start",
        ),
        DEBIAN,
        "test",
    )
    assert "location = /_jupyter_auth {\n        internal;" in text
    assert "auth_request /_jupyter_auth;" in text and "error_page 401 = @jupyter_signin;" in text
    assert (
        "return 302 https://auth.example.com/start?rd=https://jupyter.example.com:8443$request_uri;"
        in text
    )
    vouch = generate(
        options(
            auth_request="http://127.0.0.1:9090/validate",
            auth_signin="https://v.example.com/login?url=",
        ),
        DEBIAN,
        "test",
    )
    assert (
        "return 302 https://v.example.com/login?url=https://jupyter.example.com:8443$request_uri;"
        in vouch
    )
    with pytest.raises(SnippetError, match="--auth-signin"):
        build_payload(options(auth_request="http://127.0.0.1:4180/a"), DEBIAN, "test")


def test_baseline_without_nginx() -> None:
    """With no nginx here, the config targets nginx 1.18 / OpenSSL 1.1.1 and says so."""
    text = generate(options(), BASELINE_NGINX, "test")
    assert "or newer (no nginx found here)" in text
    assert "listen 8443 ssl http2;" in text


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("option", ["--base-url", "public_url", "runtime base_url"])
def test_percent_escaped_base_url_is_refused(
    option: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """nginx matches `location /a%41/` against the decoded path /aA/: it would never match, and
    every request would miss Jupyter. Refused wherever the base_url comes from."""
    value = "https://lab.example.org/a%41/" if option == "public_url" else "/a%41/"
    status, out, err = run(arbitrary_argv(option, value, jupyter_env), capsys)
    assert status == 2 and out == ""
    assert "%-escape" in one_error_line(err)


# ----------------------------------------------------------------------------- runtime files


def write_runtime(folder: Path, pid: int, port: int, base_url: str = "/", **extra: Any) -> Path:
    """A jpserver-<pid>.json like jupyter_server writes (with a token)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = {
        "base_url": base_url,
        "hostname": "localhost",
        "password": False,
        "pid": pid,
        "port": port,
        "root_dir": "/home/me",
        "secure": False,
        "sock": "",
        "token": TOKEN,
        "url": f"http://localhost:{port}{base_url}",
        "version": "2.21.1",
        **extra,
    }
    path = folder / f"jpserver-{pid}.json"
    path.write_text(json.dumps(info))
    return path


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.run(["true"], check=True)
    del proc
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_running_servers_skips_stale_and_broken_files(tmp_path: Path) -> None:
    """Files of dead pids and unreadable JSON are ignored; the token is never kept."""
    write_runtime(tmp_path, os.getpid(), 8888)
    write_runtime(tmp_path, dead_pid(), 8889)
    (tmp_path / "jpserver-77.json").write_text("{not json")
    servers = running_servers(str(tmp_path))
    assert [s.port for s in servers] == [8888]
    assert TOKEN not in repr(servers[0])


@pytest.mark.parametrize(
    "text",
    [
        '{"pid": 1e400, "port": 8888}',
        '{"pid": 100000000000000000000000, "port": 8888}',
        '{"pid": PID, "port": Infinity}',
        '{"pid": PID, "port": NaN}',
        '{"pid": PID, "port": true}',
        '{"pid": PID, "port": 70000}',
        '{"pid": PID, "port": "8888"}',
        '{"pid": PID, "port": 8888, "secure": "false"}',
        '{"pid": PID, "port": 8888, "base_url": 5}',
        '{"pid": PID, "port": 8888, "hostname": ["127.0.0.1"]}',
        '{"port": 8888}',
        "[1, 2]",
        "\u00ff\u00fe",
    ],
)
def test_runtime_file_of_the_wrong_shape_is_ignored(
    text: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Values jupyter_server never writes (wrong types, out of range) are not coerced into a
    server that is not there, and never crash the command."""
    (jupyter_env["runtime"] / "jpserver-1.json").write_text(text.replace("PID", str(os.getpid())))
    assert running_servers(str(jupyter_env["runtime"])) == []
    status, out, err = run(["--server-name=jupyter.example.com", *TLS], capsys)
    assert status == 2 and out == ""
    assert "no running Jupyter server found" in one_error_line(err)


def test_choose_server(tmp_path: Path) -> None:
    """None, one, several; chosen by port, pid or URL."""
    with pytest.raises(DiscoveryError, match="no running Jupyter server found"):
        choose_server([])
    write_runtime(tmp_path, os.getpid(), 8888, "/jp/")
    write_runtime(tmp_path, os.getppid(), 9999)
    servers = running_servers(str(tmp_path))
    with pytest.raises(DiscoveryError, match="2 Jupyter servers are running") as info:
        choose_server(servers)
    assert "port 8888, base_url /jp/" in str(info.value) and "port 9999" in str(info.value)
    assert choose_server(servers, port=9999).pid == os.getppid()
    assert choose_server(servers, pid=os.getpid()).port == 8888
    assert choose_server(servers, url="http://localhost:8888/jp/lab").port == 8888
    with pytest.raises(DiscoveryError, match="matches --port 1234; running:"):
        choose_server(servers, port=1234)
    with pytest.raises(DiscoveryError, match="no running Jupyter server matches"):
        choose_server(servers, url="http://localhost:8888/other/")
    # The URL Jupyter prints at startup carries the token: the message does not repeat it.
    with pytest.raises(DiscoveryError) as info:
        choose_server(servers, url="http://localhost:1/lab?token=abcdef0123456789")
    assert "abcdef0123456789" not in str(info.value)
    assert "--url http://localhost:1/lab?<query not shown>" in str(info.value)
    # ... nor the #token=... fragment some copy from a browser's address bar.
    with pytest.raises(DiscoveryError) as info:
        choose_server(servers, url="http://localhost:1/lab#token=abcdef0123456789")
    assert "abcdef0123456789" not in str(info.value)
    assert "--url http://localhost:1/lab#<fragment not shown>" in str(info.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--upstream", "http://u:TOPSECRET@[::1"),
        ("--upstream", "http://u:TOPSECRET@127.0.0.1:99999"),
        ("--upstream", "http://u:TOPSECRET@127.0.0.1:8888/path"),
        ("--auth-request", "http://u:TOPSECRET@auth.example.com/check"),
        ("--auth-request", "http://auth.example.com/check?key=TOPSECRET x"),
    ],
)
def test_a_refused_url_does_not_repeat_its_credentials(option: str, value: str) -> None:
    """A user:password@ or a query in a refused URL is not repeated in the one-line message."""
    from jupyter_hardening.proxy.options import SnippetError, check_url, parse_upstream

    with pytest.raises(SnippetError) as info:
        (parse_upstream if option == "--upstream" else check_url)(value, option)
    assert "TOPSECRET" not in str(info.value) and option in str(info.value), info.value


# ----------------------------------------------------------------------------- the command


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """nginx-snippet in-process, without nginx (the baseline profile: the same text everywhere)."""
    return in_process(NginxSnippetApp(), [*argv, "--nginx=no-such-nginx"], capsys)


TLS = ["--tls-cert=/etc/ssl/j/fullchain.pem", "--tls-key=/etc/ssl/j/privkey.pem"]


def one_error_line(err: str) -> str:
    """nginx-snippet's error: exactly one line."""
    return cli.one_error_line(err, "nginx-snippet")


def test_command_from_live_runtime_file(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """One server running: its port and base_url are used, its token never printed."""
    write_runtime(jupyter_env["runtime"], os.getpid(), 8765, "/jp/")
    status, out, err = run(["--server-name=jupyter.example.com", "--listen=8443", *TLS], capsys)
    assert status == 0, err
    assert f"pid {os.getpid()}, port 8765, base_url /jp/ (jpserver-{os.getpid()}.json)" in out
    assert "proxy_pass http://127.0.0.1:8765;" in out and "location /jp/ {" in out
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("servers", "argv", "message"),
    [
        (0, [], "no running Jupyter server found in"),
        (2, [], "2 Jupyter servers are running (choose one with --port, --pid or --url)"),
        (2, ["--port=1"], "no running Jupyter server matches --port 1; running: pid"),
    ],
    ids=["none", "several", "no-match"],
)
def test_command_discovery_errors(
    servers: int,
    argv: list[str],
    message: str,
    jupyter_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No server, or several without a choice: one line, exit 2, what runs — and no token."""
    for pid, port in [(os.getpid(), 8001), (os.getppid(), 8002)][:servers]:
        write_runtime(jupyter_env["runtime"], pid, port)
    status, out, err = run(["--server-name=jupyter.example.com", *TLS, *argv], capsys)
    assert status == 2 and out == ""
    assert message in one_error_line(err)
    assert TOKEN not in err


def test_command_chooses_by_port_and_pid(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--port and --pid pick one of several."""
    write_runtime(jupyter_env["runtime"], os.getpid(), 8001)
    write_runtime(jupyter_env["runtime"], os.getppid(), 8002)
    status, out, _ = run(["--server-name=jupyter.example.com", *TLS, "--port=8002"], capsys)
    assert status == 0 and "proxy_pass http://127.0.0.1:8002;" in out
    status, out, _ = run(
        ["--server-name=jupyter.example.com", *TLS, f"--pid={os.getpid()}"], capsys
    )
    assert status == 0 and "proxy_pass http://127.0.0.1:8001;" in out
    status, out, _ = run(
        ["--server-name=jupyter.example.com", *TLS, "--url=http://localhost:8002/"], capsys
    )
    assert status == 0 and "proxy_pass http://127.0.0.1:8002;" in out


def test_hostile_runtime_file_is_refused(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A base_url or sock in a runtime file is validated like user input."""
    write_runtime(jupyter_env["runtime"], os.getpid(), 8001, "/jp/;return 200 x;/")
    status, out, err = run(["--server-name=jupyter.example.com", *TLS], capsys)
    assert status == 2 and out == ""
    assert "the server's base_url" in one_error_line(err)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--server-name", "jupyter.example.com;return 200 x"),
        ("--listen", "8443 default_server"),
        ("--tls-cert", "/etc/ssl/a.pem;include /etc/shadow"),
        ("--tls-key", "/etc/ssl/a key.pem"),
        ("--letsencrypt", "example.com/../x"),
        ("--base-url", "/jp/{"),
        ("--upstream", "127.0.0.1:8888;"),
        ("--auth-request", "http://127.0.0.1:4180/auth$args"),
        ("--auth-signin", "https://a.example.com/'x'"),
        ("--max-body-size", "1g;"),
        ("--letsencrypt-live", "/etc/le live"),
    ],
)
def test_command_refuses_injection(
    option: str, value: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every option: a value with config syntax exits 2 with one line naming the option."""
    argv = ["--server-name=jupyter.example.com", "--upstream=127.0.0.1:8888", *TLS]
    if option in ("--letsencrypt", "--letsencrypt-live"):
        argv = [a for a in argv if not a.startswith("--tls")] + ["--letsencrypt=example.com"]
    if option.startswith("--auth"):
        argv += ["--auth-request=http://127.0.0.1:4180/a", "--auth-signin=https://a.example.com/"]
    if option == "--upstream-ca":
        argv = [a for a in argv if not a.startswith("--upstream=")]
        argv.append("--upstream=https://localhost:8888")
    argv = [a for a in argv if not a.startswith(option + "=")]
    status, out, err = run([*argv, f"{option}={value}"], capsys)
    assert status == 2 and out == ""
    assert option in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--listen-port=8443"], "unknown option '--listen-port'"),
        (["8443"], "unexpected argument '8443'"),
        (["--port", "abc"], "--port 'abc' is not a number"),
        (["--listen"], "--listen needs a value"),
        (["--output", "--check"], "--output needs a value"),
        (["--http-port=\u00b2"], "--http-port '\u00b2' is not a number"),
        (["--pid", "-1"], "--pid '-1': a pid is a whole number above 0"),
        (["--pid=0"], "--pid '0': a pid is a whole number above 0"),
        (["--port", "99999"], "--port '99999': a port is 1-65535"),
        (["--http-port=-80"], "--http-port '-80': a port is 1-65535"),
        (["--check=yes"], "--check takes no value"),
        (["--listen=1", "--listen", "2"], "--listen is given twice"),
        (["--listen="], "--listen is empty"),
        (["--server-name", ""], "--server-name is empty"),
        # argparse would print its usage and name the trait, not the option
        (["--server-name", "-a.com"], "one that starts with '-' is written --server-name=VALUE"),
        (["--tls-cert", " "], "--tls-cert is empty"),
    ],
)
def test_argv_problems(argv: list[str], message: str) -> None:
    """Typos are errors, not warnings: a wrong config is worse than none."""
    assert message in argv_problem(argv, NginxSnippetApp.aliases, NginxSnippetApp.flags)


def test_argv_ok() -> None:
    """Known options, --Class.trait=value and flags pass."""
    argv = [
        "--listen",
        "8443",
        "--check",
        "--http-redirect",
        "--NginxSnippetApp.http_port=81",
        "--port=1",
    ]
    assert argv_problem(argv, NginxSnippetApp.aliases, NginxSnippetApp.flags) == ""


def test_defaults_from_public_url(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """c.Hardening.public_url in jupyter_server_config.py gives server name, port and path."""
    (jupyter_env["config"] / "jupyter_server_config.py").write_text(
        "c.Hardening.public_url = 'https://lab.example.org:9443/team/'\n"
    )
    status, out, err = run(["--upstream=127.0.0.1:8888", *TLS], capsys)
    assert status == 0, err
    assert "server_name lab.example.org;" in out
    assert "listen 9443 ssl http2;" in out
    assert "location /team/ {" in out
    assert "proxy_set_header Host $host:9443;" in out


@pytest.mark.parametrize(
    ("public_url", "argv", "message"),
    [
        ("https://lab.example.org/team/", ["--base-url=/other/"], "public_url has the path /team/"),
        ("http://lab.example.org/", [], "is not https"),
        ("https://lab.example.org/a b/", [], "c.Hardening.public_url"),
    ],
)
def test_public_url_conflicts(
    public_url: str,
    argv: list[str],
    message: str,
    jupyter_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A public_url that the proxy cannot honour is a one-line error."""
    (jupyter_env["config"] / "jupyter_server_config.json").write_text(
        json.dumps({"Hardening": {"public_url": public_url}})
    )
    status, _, err = run(["--upstream=127.0.0.1:8888", *TLS, *argv], capsys)
    assert status == 2
    assert message in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--upstream=127.0.0.1:1"], "--server-name is needed"),
        (["--upstream=127.0.0.1:1", "--server-name=j.example.com"], "nginx needs a certificate"),
        (
            [
                "--upstream=127.0.0.1:1",
                "--server-name=j.example.com",
                "--letsencrypt=j.example.com",
                *TLS,
            ],
            "not both",
        ),
        (
            ["--upstream=127.0.0.1:1", "--server-name=j.example.com", "--check", *TLS],
            "--check needs nginx",
        ),
        (
            ["--upstream=127.0.0.1:1", "--url=http://127.0.0.1:2/", "--server-name=j.example.com"],
            "--url chooses a running server but --upstream describes one",
        ),
        (
            [
                "--upstream=127.0.0.1:1",
                "--server-name=j.example.com",
                *TLS,
                "--listen=8443",
                "--http-redirect",
                "--http-port=8443",
            ],
            "--http-port 8443 is also the https port",
        ),
        (
            [
                "--upstream=127.0.0.1:1",
                "--server-name=j.example.com",
                *TLS,
                "--listen=80",
                "--http-redirect",
            ],
            "--http-port 80 is also the https port (--listen); the redirect needs a port of its "
            "own, e.g. --listen 443",
        ),
        (
            ["--upstream=127.0.0.1:1", "--server-name=j.example.com", *TLS, "--http-port=8080"],
            "--http-port 8080 is the port of the --http-redirect server; add --http-redirect",
        ),
        (
            [
                "--upstream=127.0.0.1:1",
                "--server-name=j.example.com",
                "--location-only",
                "--http-redirect",
            ],
            "--location-only prints locations for a server you already have, so --http-redirect",
        ),
        (
            ["--upstream=127.0.0.1:1", "--server-name=j.example.com", "--location-only", *TLS],
            "so --tls-cert would be left out",
        ),
        (
            [
                "--upstream=127.0.0.1:1",
                "--server-name=j.example.com",
                "--location-only",
                "--letsencrypt=j.example.com",
            ],
            "so --letsencrypt would be left out",
        ),
    ],
)
def test_usage_errors(
    argv: list[str], message: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing choices are one-line errors with the fix."""
    status, _, err = run(argv, capsys)
    assert status == 2
    assert message in one_error_line(err)


def test_output_file(
    jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output writes the file and prints nothing on stdout."""
    target = tmp_path / "jupyter.conf"
    status, out, err = run(
        ["--upstream=127.0.0.1:1", "--server-name=j.example.com", *TLS, f"--output={target}"],
        capsys,
    )
    assert status == 0, err
    assert out == "" and target.read_text().startswith("# Jupyter behind nginx")


OUTPUT_ARGS = ["--upstream=127.0.0.1:1", "--server-name=j.example.com", *TLS]


def test_nginx_that_cannot_run_is_one_line(
    jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--nginx pointing at something executable that is not a program: no traceback."""
    broken = tmp_path / "nginx"
    broken.write_bytes(b"\x7fELF garbage")
    broken.chmod(0o755)
    status, _, err = in_process(NginxSnippetApp(), [*OUTPUT_ARGS, f"--nginx={broken}"], capsys)
    assert status == 2
    assert f"cannot run `{broken} -V`" in one_error_line(err)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/jupyter.conf", "No such file or directory"),
        (".", "is a folder; give a file name such as jupyter.conf"),
        ("/dev/full", "No space left on device"),
    ],
)
def test_output_errors_are_one_line(
    where: str,
    message: str,
    jupyter_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An --output that cannot be written: one line naming it, exit 2, no traceback."""
    target = where if where.startswith("/") else str(tmp_path / where)
    status, out, err = run([*OUTPUT_ARGS, f"--output={target}"], capsys)
    assert status == 2 and out == ""
    line = one_error_line(err)
    assert f"cannot write --output {target}: {message}" in line


def test_output_replaces_the_file_in_one_step(
    jupyter_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Written through a symlink (sites-enabled -> sites-available), the link stays a link and
    the file keeps its mode; a write that fails (disk full) leaves the old file whole."""
    available = tmp_path / "sites-available"
    enabled = tmp_path / "sites-enabled"
    available.mkdir()
    enabled.mkdir()
    real = available / "jupyter"
    real.write_text("# the config that works\n")
    real.chmod(0o640)
    link = enabled / "jupyter"
    link.symlink_to(real)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", disk_full)
        status, _, err = run([*OUTPUT_ARGS, f"--output={link}"], capsys)
    assert status == 2 and "No space left on device" in one_error_line(err)
    assert real.read_text() == "# the config that works\n"
    assert sorted(p.name for p in available.iterdir()) == ["jupyter"]

    status, out, err = run([*OUTPUT_ARGS, f"--output={link}"], capsys)
    assert status == 0 and out == "", err
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("# Jupyter behind nginx")
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in available.iterdir()) == ["jupyter"]


def test_output_to_a_pipe_writes_into_it(
    jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output /dev/stdout or a named pipe is written to, never replaced by a file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    status, _, err = run([*OUTPUT_ARGS, f"--output={fifo}"], capsys)
    reader.join(30)
    assert status == 0, err
    assert fifo.is_fifo()
    assert received and received[0].startswith("# Jupyter behind nginx")
    # A named pipe nothing reads: refused at once in one line, not a wait without end.
    status, out, err = run([*OUTPUT_ARGS, f"--output={fifo}"], capsys)
    assert status == 2 and out == "", err
    assert err.splitlines()[-1].endswith("is a named pipe (FIFO) that nothing reads"), err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "jupyter_server_config.py",
            f"c.Hardening.public_url = 'https://lab.example.org:9443/team/'\n"
            f"c.IdentityProvider.token = '{TOKEN}' + 1\n",
            "jupyter_server_config.py: TypeError: can only concatenate str",
        ),
        (
            "jupyter_server_config.json",
            '{"Hardening": {"public_url": "https://lab.example.org:9443/team/"',
            "jupyter_server_config.json: JSONDecodeError",
        ),
        (
            "jupyter_server_config.py",
            "c.NginxSnippetApp.listen = 8443\n",
            "The 'listen' trait of a NginxSnippetApp instance expected a unicode string",
        ),
    ],
    ids=["python-error", "broken-json", "wrong-type"],
)
def test_broken_config_file_is_one_line(
    name: str,
    text: str,
    message: str,
    jupyter_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A config file that does not load is an error (exit 2, one line naming it), not a skipped
    file: skipping it would drop public_url and write a config for port 443 and path /."""
    (jupyter_env["config"] / name).write_text(text)
    status, out, err = run([*OUTPUT_ARGS], capsys)
    assert (status, out) == (2, ""), err
    assert message in one_error_line(err)
    assert "Traceback" not in err and TOKEN not in err


def test_config_option_naming_no_file_is_an_error(
    jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config with a typo'd path, or a folder's, is not silently ignored."""
    status, out, err = run([*OUTPUT_ARGS, f"--config={tmp_path / 'nope.py'}"], capsys)
    assert (status, out) == (2, "")
    assert "nope.py: no such file" in one_error_line(err)
    status, out, err = run([*OUTPUT_ARGS, f"--config={tmp_path}"], capsys)
    assert (status, out) == (2, "")
    assert f"--config {tmp_path}: a folder, not a file" in one_error_line(err)


def test_port_mapping_in_front(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """public_url on 443 while nginx listens on 8443 (docker -p 443:8443): Host has no port."""
    (jupyter_env["config"] / "jupyter_server_config.py").write_text(
        "c.Hardening.public_url = 'https://lab.example.org/'\n"
    )
    status, out, err = run(["--upstream=127.0.0.1:8888", "--listen=8443", *TLS], capsys)
    assert status == 0, err
    assert "listen 8443 ssl http2;" in out and "proxy_set_header Host $host;" in out
    assert "# nginx listens on 8443; a port mapping in front of it serves 443." in out


def test_newline_in_runtime_file_stays_one_line(tmp_path: Path) -> None:
    """Discovery errors quote odd runtime values instead of breaking the line."""
    write_runtime(tmp_path, os.getpid(), 8001, "/jp/\nevil/")
    write_runtime(tmp_path, os.getppid(), 8002)
    with pytest.raises(DiscoveryError) as info:
        choose_server(running_servers(str(tmp_path)))
    assert "\n" not in str(info.value) and "evil" in str(info.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["--base-url=/x/"],
        ["--url=http://localhost:1/\nx"],
        ["--url=http://\x1b[31mred:1/"],
        ["--url=http://[x:1/"],
    ],
    ids=["base-url-mismatch", "url-newline", "url-escape", "url-bracket"],
)
def test_errors_with_odd_values_stay_one_line(
    argv: list[str], jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A newline or terminal escape in a runtime file or an option never splits the error."""
    write_runtime(jupyter_env["runtime"], os.getpid(), 8001, "/jp/\nevil/")
    status, out, err = run(["--server-name=jupyter.example.com", *TLS, *argv], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "\x1b" not in err
    assert one_error_line(err)


def test_location_only_needs_no_certificate(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The existing server holds TLS; --location-only prints locations only."""
    status, out, err = run(
        ["--upstream=127.0.0.1:1", "--server-name=j.example.com", "--location-only"], capsys
    )
    assert status == 0, err
    assert out.count("location") >= 1 and "ssl_certificate" not in out


# ----------------------------------------------------------------------------- with nginx / cheap


@pytest.mark.nginx
def test_check_runs_nginx(jupyter_env: dict[str, Path], tmp_path: Path) -> None:
    """--check reports ok for a good config, and nginx's own error (exit 1) for a bad one."""
    require_tool("nginx", "nginx")
    from .nginx_util import make_ca

    ca = make_ca(tmp_path / "ca")
    base = ["nginx-snippet", "--server-name=jupyter.example.com"]
    base += ["--upstream=127.0.0.1:8888", "--check"]
    target = tmp_path / "jupyter.conf"
    target.write_text("# the config that works\n")
    # The four runs in one batch, each a fresh process forked from one Python that has not
    # imported the server, as the console script has not (tests/forked.py).
    good, bad, kept, only = run_all(
        [
            Run([*base, f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]),
            Run([*base, "--tls-cert=/nonexistent/c.pem", "--tls-key=/nonexistent/k.pem"]),
            Run(
                [
                    *base,
                    "--tls-cert=/nonexistent/c.pem",
                    "--tls-key=/nonexistent/k.pem",
                    f"--output={target}",
                ]
            ),
            Run([*base, "--location-only"]),
        ],
        preload_server=False,
    )
    assert good.returncode == 0, good.stderr
    assert "nginx -t (nginx " in good.stderr and "): ok" in good.stderr
    assert bad.returncode == 1
    assert "FAILED" in bad.stderr and "/nonexistent/c.pem" in bad.stderr
    assert bad.stdout.startswith("# Jupyter behind nginx")
    # With --output, a config nginx rejects never replaces the one in place.
    assert kept.returncode == 1 and "was not written (left as it was)" in kept.stderr
    assert target.read_text() == "# the config that works\n"
    assert only.returncode == 0, only.stderr


def test_command_does_not_import_the_server(tmp_path: Path) -> None:
    """The command stays light: jupyter_server's app is never imported."""
    code = (
        "import sys\n"
        "from jupyter_hardening.cli import main\n"
        "try:\n"
        "    main(['nginx-snippet', '--upstream=127.0.0.1:1', '--server-name=j.example.com', "
        "'--location-only'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_server')), file=sys.stderr)\n"
    )
    env = JupyterHome(tmp_path).env()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
    assert "location / {" in result.stdout


# ----------------------------------------------------------------------------- any text, any option

# Characters that nginx, crossplane, traitlets or a terminal treat specially.
NASTY = list(";{}\"'$#\\` \t\n\r\x00\x0b\x0c\x1b\x7f\x85\xa0\u2028%/:[]=@?&*()!~,.-_+٣²")
# Characters that belong in the values: so that spliced text is often accepted, and checked.
PLAIN = [*"az09.:/[]-_=?&%", "8443", "::", "[::1]", "0", "g", "k"]
# The same examples on every run (no example database): CI stays reproducible.
FUZZ = settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
ODD = st.one_of(st.sampled_from(NASTY), st.sampled_from(PLAIN), st.characters())


def spliced(valid: str, alphabet: st.SearchStrategy[str] = ODD) -> st.SearchStrategy[str]:
    """``valid`` with a few characters from ``alphabet`` put in somewhere."""
    piece = st.lists(alphabet, min_size=1, max_size=4).map("".join)
    return st.builds(
        lambda i, piece: valid[:i] + piece + valid[i:], st.integers(0, len(valid)), piece
    )


# Each input that reaches the config: how to give it, a valid value, and what an error names.
ARBITRARY: dict[str, tuple[str, str]] = {
    "--server-name": ("jupyter.example.com", "--server-name"),
    "--listen": ("127.0.0.1:8443", "--listen"),
    "--tls-cert": ("/etc/ssl/j/fullchain.pem", "--tls-cert"),
    "--tls-key": ("/etc/ssl/j/privkey.pem", "--tls-key"),
    "--letsencrypt": ("jupyter.example.com", "--letsencrypt"),
    "--letsencrypt-live": ("/etc/letsencrypt/live", "--letsencrypt-live"),
    "--base-url": ("/jp/", "--base-url"),
    "--upstream": ("http://127.0.0.1:8888", "--upstream"),
    "--upstream-ca": ("/etc/jupyter/ca.pem", "--upstream-ca"),
    "--auth-request": ("http://127.0.0.1:4180/oauth2/auth", "--auth-request"),
    "--auth-signin": ("https://auth.example.com/oauth2/start?x=", "--auth-signin"),
    "--max-body-size": ("512m", "--max-body-size"),
    "public_url": ("https://lab.example.org:9443/team/", "public_url"),
    "runtime base_url": ("/jp/", "the server's base_url"),
    "runtime hostname": ("127.0.0.1", "the server's hostname/port"),
    "runtime sock": ("/run/jupyter/j.sock", "the server's sock"),
}


def arbitrary_argv(option: str, value: str, folders: dict[str, Path]) -> list[str]:
    """The command line (and config/runtime files) that give ``value`` to ``option``."""
    for path in [*folders["config"].iterdir(), *folders["runtime"].iterdir()]:
        path.unlink()
    argv = ["--server-name=jupyter.example.com", "--upstream=127.0.0.1:8888", *TLS]
    if option.startswith("runtime"):
        argv.remove("--upstream=127.0.0.1:8888")
        key = option.split()[1]
        write_runtime(folders["runtime"], os.getpid(), 8888, **{key: value})
        return argv
    if option == "public_url":
        (folders["config"] / "jupyter_server_config.json").write_text(
            json.dumps({"Hardening": {"public_url": value}})
        )
        return [a for a in argv if not a.startswith("--server-name")]
    if option.startswith("--letsencrypt"):
        argv = [a for a in argv if not a.startswith("--tls")]
        if option == "--letsencrypt-live":
            argv.append("--letsencrypt=jupyter.example.com")
    if option.startswith("--auth"):
        argv += ["--auth-request=http://127.0.0.1:4180/a", "--auth-signin=https://a.example.com/"]
    if option == "--upstream-ca":
        argv = [a for a in argv if not a.startswith("--upstream=")]
        argv.append("--upstream=https://localhost:8888")
    argv = [a for a in argv if not a.startswith(option + "=")]
    return [*argv, f"{option}={value}"]


def bare(block: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Directives with their args and blocks only (no comments, line numbers or files)."""
    return [
        {
            "directive": s["directive"],
            "args": s["args"],
            **({"block": bare(s["block"])} if "block" in s else {}),
        }
        for s in block
        if s["directive"] != "#"
    ]


def intended(argv: list[str]) -> list[dict[str, Any]]:
    """The payload the command means to write for ``argv``."""
    app = NginxSnippetApp()
    app.initialize([*argv, "--nginx=no-such-nginx"])
    opts, source = app.options()
    return bare(build_payload(opts, BASELINE_NGINX, source))


@pytest.mark.parametrize("option", ARBITRARY)
def test_any_text_in_any_option(
    option: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Arbitrary text, alone or spliced into a valid value: either one error line naming the
    input (exit 2, no traceback, no token), or a config nginx reads back exactly as intended."""
    valid, name = ARBITRARY[option]
    folder = jupyter_env["data"]

    @settings(FUZZ, max_examples=120)
    @given(st.one_of(st.text(), spliced(valid)))
    def check(value: str) -> None:
        argv = arbitrary_argv(option, value, jupyter_env)
        status, out, err = run(argv, capsys)
        assert "Traceback" not in err and TOKEN not in out + err
        if status:
            assert status == 2 and out == "", err
            assert name in one_error_line(err), err
            return
        assert bare(parsed(out, folder)) == intended(argv)
        comments = [line for line in out.splitlines() if line.lstrip().startswith("#")]
        assert all(line.startswith("# ") or line == "#" for line in comments), comments

    check()


# nginx -t resolves host names in listen/proxy_pass; an unknown name there is not a syntax problem.
UNRESOLVED = re.compile(r'host not found in (upstream|"[^"]*" of the "listen" directive)')


@pytest.mark.nginx
@pytest.mark.parametrize(
    # Certificate paths are left out: nginx -t loads the files, and these paths do not exist
    # (test_nginx_config passes real ones, --upstream-ca included).
    "option",
    [
        o
        for o in ARBITRARY
        if o not in ("--tls-cert", "--tls-key", "--upstream-ca") and "letsencrypt" not in o
    ],
)
def test_any_accepted_text_passes_nginx(
    option: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What the command accepts, real ``nginx -t`` accepts too (a sample of the text above)."""
    require_tool("nginx", "nginx")
    from .nginx_util import make_ca, nginx_conf_including, nginx_test

    ca = make_ca(tmp_path / "ca")
    valid, _ = ARBITRARY[option]
    checked: list[str] = []

    @settings(FUZZ, max_examples=80)
    @given(st.one_of(spliced(valid), spliced(valid, st.sampled_from(PLAIN))))
    def check(value: str) -> None:
        argv = arbitrary_argv(option, value, jupyter_env)
        argv = [a for a in argv if not a.startswith("--tls")]
        argv += [f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]
        status, out, _ = run(argv, capsys)
        if status:
            return
        result = nginx_test(nginx_conf_including(tmp_path / "nginx", out))
        emerg = [line for line in result.stderr.splitlines() if "[emerg]" in line]
        assert result.returncode == 0 or all(UNRESOLVED.search(e) for e in emerg), (
            result.stderr + out
        )
        checked.append(value)

    check()
    assert checked, "no accepted value reached nginx"


def test_https_upstream_on_another_host_is_verified(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """nginx accepts any upstream certificate unless told otherwise: an https Jupyter on another
    host gets proxy_ssl_verify with the system CAs or --upstream-ca; plain http gets a warning."""
    base = ["--server-name=jupyter.example.com", *TLS, "--base-url=/jp/"]
    status, out, err = run([*base, "--upstream=https://jupyter.internal:8888"], capsys)
    assert status == 0, err
    for line in (
        "proxy_ssl_verify on;",
        "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
        "proxy_ssl_verify_depth 3;",
        "proxy_ssl_server_name on;",
    ):
        assert line in out
    status, out, err = run(
        [*base, "--upstream=https://jupyter.internal:8888", "--upstream-ca=/etc/jupyter/ca.pem"],
        capsys,
    )
    assert status == 0 and "proxy_ssl_trusted_certificate /etc/jupyter/ca.pem;" in out, err
    status, out, err = run([*base, "--upstream=http://10.0.0.5:8888"], capsys)
    assert status == 0 and "proxy_ssl" not in out, err
    assert "# Passwords and code travel from nginx to Jupyter in plain http" in out
    status, out, err = run([*base, "--upstream=https://127.0.0.1:8888"], capsys)
    assert status == 0 and "proxy_ssl" not in out, "no network hop on loopback"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--upstream=https://10.0.0.5:8888"], "10.0.0.5 is an address: give the name"),
        (["--upstream=http://10.0.0.5:8888", "--upstream-ca=/ca.pem"], "--upstream-ca is for"),
        (["--upstream-ca=/ca.pem"], "--upstream-ca goes with --upstream https://HOST:PORT"),
        (["--upstream=https://j.internal:1", "--upstream-ca=ca.pem"], "must be an absolute path"),
        (["--upstream=https://j.internal:1", "--upstream-ca=/a;b"], "contains ';'"),
    ],
    ids=["ip-cannot-be-verified", "ca-without-https", "ca-without-upstream", "relative", "inject"],
)
def test_upstream_ca_errors(
    argv: list[str], message: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """What nginx cannot verify, or a CA that has nothing to verify: one line, exit 2."""
    status, out, err = run(["--server-name=jupyter.example.com", *TLS, *argv], capsys)
    assert status == 2 and out == ""
    assert message in one_error_line(err)


def test_address_as_server_name_gets_remote_access_not_local_hostnames(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """jupyter_server takes an address in Host only when it is loopback: for a proxy reached by
    address, the companion setting is allow_remote_access, not local_hostnames (JH704)."""
    base = ["--upstream=http://127.0.0.1:8888", *TLS, "--listen=8443"]
    status, out, err = run([*base, "--server-name=203.0.113.5"], capsys)
    assert status == 0, err
    assert "#   c.ServerApp.allow_remote_access = True" in out
    assert "local_hostnames" not in out
    status, out, err = run([*base, "--server-name=jupyter.example.com"], capsys)
    assert "#   c.ServerApp.local_hostnames = ['localhost', 'jupyter.example.com']" in out
    assert "allow_remote_access" not in out


@pytest.mark.parametrize(
    ("host", "local"),
    [("localhost", True), ("LocalHost", True), ("127.0.0.1", True), ("10.0.0.5", False)],
)
def test_localhost_upstream_is_this_machine(host: str, local: bool) -> None:
    """'localhost' resolves to loopback here (and for the proxy): Jupyter is on this machine,
    so the config binds it to loopback and trusts the proxy's headers; another host gets the
    firewall note instead (review finding: localhost was called another host)."""
    text = generate(options(upstream=Upstream(host=host, port=8888)), DEBIAN, "test")
    assert ("runs on another host" not in text) is local, text
    assert ("c.ServerApp.trust_xheaders = True" in text) is local, text
