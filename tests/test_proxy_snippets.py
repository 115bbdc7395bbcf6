"""`jupyter hardening caddy-snippet` and `apache-snippet` without a running proxy: the emitters'
quoting (read back by the real Caddy and httpd), the shape of the configs, version parsing, any
text in any option (refused in one line, or accepted by the proxy's own config test), and
`caddy validate` / `apache2 -t` over a matrix of options."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_hardening.proxy.apache import build_vhost
from jupyter_hardening.proxy.command import ApacheSnippetApp, CaddySnippetApp
from jupyter_hardening.proxy.options import SnippetError, SnippetOptions, Upstream
from jupyter_hardening.proxy.probe import (
    BASELINE_APACHE,
    BASELINE_CADDY,
    ApacheInfo,
    caddy_env,
    module_dir,
    standalone_conf,
)
from jupyter_hardening.proxy.text import Raw, apache_arg, apache_conf, caddy_token, node

from . import cli
from .cli import in_process
from .fixtures import require_tool
from .nginx_util import make_ca
from .proxy_util import apache_path, caddy_path
from .servers import JupyterHome
from .test_nginx_snippet import FUZZ, PLAIN, TOKEN, spliced, write_runtime
from .test_proxy_probe import DEBIAN_APACHE


def run(proxy: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """caddy-snippet or apache-snippet in-process, without the proxy (the baseline profile: no
    subprocess, the same text on every machine)."""
    if proxy == "caddy":
        return in_process(CaddySnippetApp(), [*argv, "--caddy=no-such-caddy"], capsys)
    return in_process(ApacheSnippetApp(), [*argv, "--apache=no-such-apache"], capsys)


def one_error_line(proxy: str, err: str) -> str:
    """The command's error: exactly one line."""
    return cli.one_error_line(err, f"{proxy}-snippet")


TLS = ["--tls-cert=/etc/ssl/j/fullchain.pem", "--tls-key=/etc/ssl/j/privkey.pem"]


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


# ----------------------------------------------------------------------------- emitters


def caddy_read_back(values: list[str], folder: Path) -> list[str]:
    """Caddy's own reading of ``values``, each written as the value of a response header."""
    text = "".join(f"header X-T{i} {caddy_token(v)}\n" for i, v in enumerate(values))
    conf = folder / "Caddyfile"
    conf.write_text(":8080 {\n" + text + "}\n")
    result = subprocess.run(
        [caddy_path() or "caddy", "adapt", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=caddy_env(folder),
    )
    assert result.returncode == 0, result.stderr + text
    found: dict[str, str] = {}

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("handler") == "headers":
                for name, value in obj["response"]["set"].items():
                    found[name] = value[0]
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(json.loads(result.stdout))
    return [found[f"X-T{i}"] for i in range(len(values))]


def apache_read_back(values: list[str], folder: Path) -> list[str]:
    """httpd's own reading of ``values``, each written as the value of a Define."""
    modules = module_dir()
    assert modules is not None
    conf = [
        node("LoadModule", "mpm_event_module", str(modules / "mod_mpm_event.so")),
        node("ServerRoot", str(folder)),
        node("ErrorLog", str(folder / "error.log")),
        node("PidFile", str(folder / "httpd.pid")),
        node("ServerName", "localhost"),
        *(node("Define", f"JH_T{i}", v) for i, v in enumerate(values)),
    ]
    path = folder / "httpd.conf"
    path.write_text(apache_conf(conf))
    result = subprocess.run(
        [apache_path() or "apache2", "-t", "-D", "DUMP_RUN_CFG", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + path.read_text()
    found = dict(re.findall(r"^Define: (JH_T\d+)=(.*)$", result.stdout, re.MULTILINE))
    return [found.get(f"JH_T{i}", "") for i in range(len(values))]


def accepted(quote: Any, values: list[str]) -> list[str]:
    """The values the emitter writes (the others must be refused with SnippetError)."""
    kept = []
    for value in values:
        try:
            quote(value)
        except SnippetError:
            continue
        kept.append(value)
    return kept


@pytest.mark.caddy
def test_caddy_tokens_read_back_as_written(tmp_path: Path) -> None:
    """Any text the Caddyfile emitter writes, Caddy reads back as that one token, unchanged."""
    require_tool(caddy_path() or "caddy", "Caddy (Debian caddy)")

    @settings(FUZZ, max_examples=40)
    @given(
        st.lists(
            st.one_of(st.text(min_size=1), spliced("a b"), st.sampled_from(PLAIN)),
            min_size=1,
            max_size=12,
        )
    )
    def check(values: list[str]) -> None:
        kept = accepted(caddy_token, values)
        if kept:
            assert caddy_read_back(kept, tmp_path) == kept

    check()


@pytest.mark.apache
def test_apache_arguments_read_back_as_written(tmp_path: Path) -> None:
    """Any text the httpd emitter writes, httpd reads back as that one argument, unchanged."""
    require_tool(apache_path() or "apache2", "Apache httpd (Debian apache2)")

    @settings(FUZZ, max_examples=40)
    @given(
        st.lists(
            st.one_of(st.text(min_size=1), spliced("a b"), st.sampled_from(PLAIN)),
            min_size=1,
            max_size=12,
        )
    )
    def check(values: list[str]) -> None:
        kept = accepted(apache_arg, values)
        if kept:
            assert apache_read_back(kept, tmp_path) == kept

    check()


@pytest.mark.parametrize(
    "value", ["{$HOME}", "{host}", "a\nb", 'a"b', "a\\b", "`x`", "\x1b[31m", "} {"]
)
def test_caddy_emitter_refuses_what_caddy_would_expand_or_split(value: str) -> None:
    """Placeholders, env substitution, newlines, quotes, backslashes: refused, not escaped."""
    with pytest.raises(SnippetError):
        caddy_token(value)


@pytest.mark.parametrize("value", ["${HOME}", "a\nb", 'a"b', "a\\", "x>", "<x", "\x00", "$x"])
def test_apache_emitter_refuses_what_httpd_would_expand_or_split(value: str) -> None:
    """Define variables, line ends, quotes, continuations, section ends: refused."""
    with pytest.raises(SnippetError):
        apache_arg(value)


def test_raw_tokens_are_checked_too() -> None:
    """A Raw token of ours may hold placeholders, never whitespace or a newline."""
    assert caddy_token(Raw("{remote_host}")) == "{remote_host}"
    with pytest.raises(SnippetError):
        caddy_token(Raw("{a} b"))
    with pytest.raises(SnippetError):
        apache_arg(Raw("${X}"))
    with pytest.raises(SnippetError):
        apache_conf([node("Bad Name")])


# ----------------------------------------------------------------------------- versions and shape


def test_apache_websockets_follow_the_version() -> None:
    """2.4.47+: upgrade=websocket on ProxyPass; before: mod_rewrite + mod_proxy_wstunnel."""
    new = apache_conf(build_vhost(options(), DEBIAN_APACHE, "test"))
    assert "ProxyPass /jp/ http://127.0.0.1:8888/jp/ timeout=86400 upgrade=websocket nocanon" in new
    assert "RewriteRule" not in new and "a2enmod ssl proxy proxy_http headers alias" in new
    old = apache_conf(build_vhost(options(), BASELINE_APACHE, "test"))
    assert "upgrade=websocket" not in old
    assert "RewriteRule ^/jp/(.*)$ ws://127.0.0.1:8888/jp/$1 [P,L,NE]" in old
    assert "a2enmod ssl proxy proxy_http rewrite proxy_wstunnel headers alias" in old
    old_tls = ApacheInfo((2, 4, 29), (1, 1, 0))
    text = apache_conf(build_vhost(options(), old_tls, "test"))
    assert "SSLProtocol -all +TLSv1.2\n" in text


def test_apache_vhost_shape() -> None:
    """Host with its port (ProxyPreserveHost), X-Forwarded-Proto, X-Real-IP from httpd, HSTS."""
    text = apache_conf(build_vhost(options(listen_address="127.0.0.1"), DEBIAN_APACHE, "test"))
    for line in (
        "Listen 127.0.0.1:8443",
        "<VirtualHost 127.0.0.1:8443>",
        "    ProxyPreserveHost On",
        "    RequestHeader set X-Forwarded-Proto https",
        "    RequestHeader set X-Real-IP expr=%{REMOTE_ADDR}",
        "    Header always set Strict-Transport-Security max-age=63072000",
        "    RedirectMatch 302 ^/$ /jp/",
        "</VirtualHost>",
    ):
        assert line in text.splitlines(), line
    at_443 = apache_conf(build_vhost(options(listen_port=443), DEBIAN_APACHE, "test"))
    assert "Listen" not in at_443.replace("Listen 443", "") and "<VirtualHost *:443>" in at_443


def test_caddy_site_keeps_host_and_sets_what_jupyter_needs() -> None:
    """No Host rewrite (Caddy passes the browser's Host and port); the body limit in bytes."""
    from jupyter_hardening.proxy.caddy import generate

    text = generate(options(max_body_size="1g"), BASELINE_CADDY, "test")
    assert "header_up Host" not in text
    assert "\t\tmax_size 1073741824\n" in text
    assert "\theader_up X-Real-IP {remote_host}\n" in text.replace("\t\t\t", "\t")
    assert text.splitlines()[-1] == "}"
    auto = generate(options(tls_cert="", tls_key=""), BASELINE_CADDY, "test")
    assert "\ttls " not in auto and "automatic HTTPS" in auto
    unlimited = generate(options(max_body_size="0"), BASELINE_CADDY, "test")
    assert "request_body" not in unlimited
    unix = generate(options(upstream=Upstream(sock="/run/j.sock")), BASELINE_CADDY, "test")
    assert "reverse_proxy unix//run/j.sock {" in unix


# ----------------------------------------------------------------------------- the commands


def test_commands_from_a_live_runtime_file(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """One server running: its port and base_url are used, its token never printed."""
    write_runtime(jupyter_env["runtime"], os.getpid(), 8765, "/jp/")
    for proxy in ("caddy", "apache"):
        status, out, err = run(
            proxy, ["--server-name=jupyter.example.com", "--listen=8443", *TLS], capsys
        )
        assert status == 0, err
        assert f"pid {os.getpid()}, port 8765, base_url /jp/ (jpserver-{os.getpid()}.json)" in out
        assert "127.0.0.1:8765" in out
        assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("proxy", "argv", "message"),
    [
        ("caddy", ["--tls-cert=/a.pem"], "give --tls-cert and --tls-key together"),
        (
            "caddy",
            ["--auth-signin=https://a.example.com/"],
            "--auth-signin goes with --forward-auth",
        ),
        ("caddy", ["--letsencrypt=j.example.com"], "unknown option '--letsencrypt'"),
        ("apache", [], "Apache needs a certificate"),
        ("apache", ["--letsencrypt=j.example.com", *TLS], "either --letsencrypt or --tls-cert"),
        ("apache", [*TLS, "--forward-auth=http://a:1/"], "unknown option '--forward-auth'"),
        ("apache", [*TLS, "--base-url=/a b/"], "contains a space, which Apache would read"),
        ("caddy", ["--listen=8443;"], "which Caddy would read as config syntax"),
    ],
)
def test_usage_errors(
    proxy: str,
    argv: list[str],
    message: str,
    jupyter_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Options that do not fit: one line naming the fix, exit 2, nothing on stdout."""
    status, out, err = run(
        proxy, ["--upstream=127.0.0.1:8888", "--server-name=j.example.com", *argv], capsys
    )
    assert status == 2 and out == "", err
    assert message in one_error_line(proxy, err)


def test_letsencrypt_paths(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--letsencrypt DOMAIN uses certbot's live files (fullchain.pem carries the chain)."""
    argv = [
        "--upstream=127.0.0.1:8888",
        "--server-name=j.example.com",
        "--letsencrypt=j.example.com",
    ]
    status, out, err = run("apache", argv, capsys)
    assert status == 0, err
    assert "    SSLCertificateFile /etc/letsencrypt/live/j.example.com/fullchain.pem" in out
    assert "    SSLCertificateKeyFile /etc/letsencrypt/live/j.example.com/privkey.pem" in out


def test_output_file(
    jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output writes the file (nothing on stdout), as nginx-snippet does."""
    for proxy in ("caddy", "apache"):
        target = tmp_path / f"{proxy}.conf"
        argv = [
            "--upstream=127.0.0.1:8888",
            "--server-name=j.example.com",
            *TLS,
            f"--output={target}",
        ]
        status, out, err = run(proxy, argv, capsys)
        assert status == 0 and out == "", err
        assert target.read_text().startswith("# Jupyter behind ")


# ----------------------------------------------------------------------------- any text, any option

COMMON: dict[str, tuple[str, str]] = {
    "--server-name": ("jupyter.example.com", "--server-name"),
    "--listen": ("127.0.0.1:8443", "--listen"),
    "--tls-cert": ("/etc/ssl/j/fullchain.pem", "--tls-cert"),
    "--tls-key": ("/etc/ssl/j/privkey.pem", "--tls-key"),
    "--base-url": ("/jp/", "--base-url"),
    "--upstream": ("http://127.0.0.1:8888", "--upstream"),
    "--upstream-ca": ("/etc/jupyter/ca.pem", "--upstream-ca"),
    "--max-body-size": ("512m", "--max-body-size"),
    "public_url": ("https://lab.example.org:9443/team/", "public_url"),
    "runtime base_url": ("/jp/", "the server's base_url"),
    "runtime hostname": ("127.0.0.1", "the server's hostname/port"),
    "runtime sock": ("/run/jupyter/j.sock", "the server's sock"),
}
ARBITRARY = {
    "caddy": {
        **COMMON,
        "--forward-auth": ("http://127.0.0.1:4180/oauth2/auth", "--forward-auth"),
        "--auth-signin": ("https://auth.example.com/oauth2/start?x=", "--auth-signin"),
    },
    "apache": {
        **COMMON,
        "--letsencrypt": ("jupyter.example.com", "--letsencrypt"),
        "--letsencrypt-live": ("/etc/letsencrypt/live", "--letsencrypt-live"),
    },
}
CASES = [(proxy, option) for proxy, table in ARBITRARY.items() for option in table]


def arbitrary_argv(proxy: str, option: str, value: str, folders: dict[str, Path]) -> list[str]:
    """The command line (and config/runtime files) that give ``value`` to ``option``."""
    for path in [*folders["config"].iterdir(), *folders["runtime"].iterdir()]:
        path.unlink()
    argv = ["--server-name=jupyter.example.com", "--upstream=127.0.0.1:8888", *TLS]
    if option.startswith("runtime"):
        argv.remove("--upstream=127.0.0.1:8888")
        write_runtime(folders["runtime"], os.getpid(), 8888, **{option.split()[1]: value})
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
    if option == "--auth-signin":
        argv.append("--forward-auth=http://127.0.0.1:4180/a")
    if option == "--upstream-ca":
        argv = [a for a in argv if not a.startswith("--upstream=")]
        argv.append("--upstream=https://localhost:8888")
    argv = [a for a in argv if not a.startswith(option + "=")]
    return [*argv, f"{option}={value}"]


@pytest.mark.parametrize(("proxy", "option"), CASES)
def test_any_text_in_any_option(
    proxy: str, option: str, jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Arbitrary text, alone or spliced into a valid value: one error line naming the input
    (exit 2, no traceback, no token), or a config whose every line is a comment or config."""
    valid, name = ARBITRARY[proxy][option]

    @settings(FUZZ, max_examples=80)
    @given(st.one_of(st.text(), spliced(valid)))
    def check(value: str) -> None:
        argv = arbitrary_argv(proxy, option, value, jupyter_env)
        status, out, err = run(proxy, argv, capsys)
        assert "Traceback" not in err and TOKEN not in out + err
        if status:
            assert status == 2 and out == "", err
            assert name in one_error_line(proxy, err), err
            return
        assert all(line.replace("\t", "").isprintable() for line in out.splitlines()), out
        comments = [line for line in out.splitlines() if line.lstrip().startswith("#")]
        assert all(line.startswith("# ") or line == "#" for line in comments), comments

    check()


def proxy_check(proxy: str, text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """The proxy's own config test on ``text``: caddy validate, or apache2 -t standalone."""
    folder.mkdir(parents=True, exist_ok=True)
    if proxy == "caddy":
        conf = folder / "Caddyfile"
        conf.write_text(text)
        argv = [
            caddy_path() or "caddy",
            "validate",
            "--config",
            str(conf),
            "--adapter",
            "caddyfile",
        ]
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, env=caddy_env(folder)
        )
    site = folder / "jupyter.conf"
    site.write_text(text)
    modules = module_dir()
    assert modules is not None
    # The baseline profile (wstunnel) needs its modules loaded; 2.4.71 takes that config too.
    conf = standalone_conf(folder, site, modules, BASELINE_APACHE)
    return subprocess.run(
        [apache_path() or "apache2", "-t", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def need(proxy: str) -> None:
    """Fail in CI, skip elsewhere, when the proxy is not installed."""
    if proxy == "caddy":
        require_tool(caddy_path() or "caddy", "Caddy (Debian caddy)")
    else:
        require_tool(apache_path() or "apache2", "Apache httpd (Debian apache2)")


# The config test resolves host names given to listen/bind or upstreams; an unknown name there
# is not a syntax problem.
UNRESOLVED = re.compile(
    r"(lookup|resolve|DNS lookup failed|Temporary failure in name resolution|no such host|Name or service not known)",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    ("proxy", "option"),
    [
        pytest.param(p, o, marks=getattr(pytest.mark, p))
        for p, o in CASES
        if o not in ("--tls-cert", "--tls-key", "--upstream-ca") and "letsencrypt" not in o
    ],
)
def test_any_accepted_text_passes_the_proxy(
    proxy: str,
    option: str,
    jupyter_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """What a command accepts, the real proxy's config test accepts too (a sample)."""
    need(proxy)
    ca = make_ca(tmp_path / "ca")
    valid, _ = ARBITRARY[proxy][option]
    checked: list[str] = []

    @settings(FUZZ, max_examples=25)
    @given(st.one_of(spliced(valid), spliced(valid, st.sampled_from(PLAIN))))
    def check(value: str) -> None:
        argv = arbitrary_argv(proxy, option, value, jupyter_env)
        argv = [a for a in argv if not a.startswith("--tls")]
        argv += [f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]
        status, out, _ = run(proxy, argv, capsys)
        if status:
            return
        result = proxy_check(proxy, out, tmp_path / "check")
        assert result.returncode == 0 or UNRESOLVED.search(result.stderr + result.stdout), (
            result.stderr + result.stdout + out
        )
        checked.append(value)

    check()
    assert checked, "no accepted value reached the proxy"


MATRIX_CADDY = list(
    itertools.product(
        ["--listen=8443", "--listen=127.0.0.1:8443", "--listen=[::1]:8443", "--listen=443"],
        ["--base-url=/", "--base-url=/jp/"],
        [
            "--upstream=127.0.0.1:8888",
            "--upstream=unix:/run/j.sock",
            "--upstream=https://127.0.0.1:8888",
            "--upstream=https://j.internal:8888",
        ],
        ["tls", "auto"],
        [
            "",
            "--forward-auth=http://127.0.0.1:4180/oauth2/auth --auth-signin=https://a.example.com/start",
        ],
        ["--max-body-size=0", "--max-body-size=1g"],
    )
)
MATRIX_APACHE = list(
    itertools.product(
        ["--listen=8443", "--listen=127.0.0.1:8443", "--listen=[::1]:8443", "--listen=443"],
        ["--base-url=/", "--base-url=/jp/"],
        [
            "--upstream=127.0.0.1:8888",
            "--upstream=unix:/run/j.sock",
            "--upstream=https://127.0.0.1:8888",
            "--upstream=https://j.internal:8888",
        ],
        ["detected", "baseline"],
        ["--max-body-size=0", "--max-body-size=100m"],
    )
)


@pytest.mark.caddy
def test_caddy_validate_over_an_option_matrix(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every combination of listen, base_url, upstream, TLS, forward_auth and body size passes
    `caddy validate` (the command's own --check)."""
    need("caddy")
    ca = make_ca(tmp_path / "ca")
    for listen, base, upstream, tls, auth, body in MATRIX_CADDY[::3]:
        argv = [listen, base, upstream, body, "--server-name=jupyter.example.com", *auth.split()]
        if tls == "tls":
            argv += [f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]
        result = proxy_run_checked("caddy", argv, capsys)
        assert result, argv


def proxy_run_checked(proxy: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> bool:
    """Run the real command with --check (the installed proxy); True when it validated."""
    app = CaddySnippetApp() if proxy == "caddy" else ApacheSnippetApp()
    status, out, err = in_process(app, [*argv, "--check"], capsys)
    assert status == 0, f"{argv}: exit {status}\n{err}\n{out}"
    return ": ok" in err and out.startswith("# Jupyter behind")


@pytest.mark.apache
def test_apache_config_test_over_an_option_matrix(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every combination of listen, base_url, upstream, websocket style and body size passes
    `apache2 -t` in the command's standalone config."""
    need("apache")
    ca = make_ca(tmp_path / "ca")
    for listen, base, upstream, style, body in MATRIX_APACHE[::2]:
        argv = [listen, base, upstream, body, "--server-name=jupyter.example.com"]
        argv += [f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]
        if style == "detected":
            assert proxy_run_checked("apache", argv, capsys), argv
        else:
            status, out, err = run("apache", argv, capsys)
            assert status == 0, err
            result = proxy_check("apache", out, tmp_path / "baseline")
            assert result.returncode == 0, result.stderr + out


@pytest.mark.parametrize("proxy", ["caddy", "apache"])
def test_commands_do_not_import_the_server(proxy: str, tmp_path: Path) -> None:
    """The commands stay light: jupyter_server's app is never imported."""
    code = (
        "import sys\n"
        "from jupyter_hardening.cli import main\n"
        "try:\n"
        f"    main(['{proxy}-snippet', '--upstream=127.0.0.1:1', '--server-name=j.example.com', "
        f"'--tls-cert=/a.pem', '--tls-key=/a.key'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_server')), file=sys.stderr)\n"
    )
    env = JupyterHome(tmp_path).env()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
    assert result.stdout.startswith("# Jupyter behind ")
