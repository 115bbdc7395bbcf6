"""The values a proxy config is made of, validated (jupyter_hardening/proxy/options.py): nothing
a proxy would read as syntax gets through, and the companion settings satisfy the rules."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hardening.proxy import options as checks
from jupyter_hardening.proxy.options import SnippetError, Upstream, parse_upstream, upstream_for

from .test_nginx_snippet import options


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        (Upstream(port=8888), set()),
        (Upstream(sock="/run/jupyter.sock"), set()),
        (Upstream(host="10.0.0.5", port=8888), {"JH705"}),
    ],
    ids=["loopback", "unix-socket", "other-host"],
)
def test_companions_satisfy_the_proxy_rules(upstream: Upstream, expected: set[str]) -> None:
    """A server with exactly the header's settings passes JH701-JH704 (JH705 warns when
    Jupyter is on another host: only a firewall can keep clients off its port)."""
    from jupyter_hardening.facts import binds_loopback
    from jupyter_hardening.rules import RULES
    from jupyter_hardening.snapshot import Snapshot

    opts = options(upstream=upstream)
    values: dict[str, Any] = {}
    for line in checks.companion_settings(opts):
        name, _, value = line.partition(" = ")
        values[name.rsplit(".", 1)[-1]] = ast.literal_eval(value)
    values["local_hostnames"] = tuple(values["local_hostnames"])
    values.setdefault("ip", upstream.host)
    values["ip_is_loopback"] = binds_loopback(values["ip"])
    snap = Snapshot(**values)
    fired = {f.id for rule in RULES if rule.id.startswith("JH7") for f in rule.check(snap)}
    assert fired == expected


INJECTIONS = [
    "x; return 200 pwned",
    "x}server{",
    "x{",
    'x"y',
    "x'y",
    "x y",
    "x$host",
    "x\ny",
    "x#y",
    "x\\y",
]


@pytest.mark.parametrize("bad", INJECTIONS, ids=lambda v: repr(v))
@pytest.mark.parametrize(
    "check",
    [
        checks.check_server_name,
        checks.parse_listen,
        lambda v: checks.check_file_path("/etc/ssl/" + v, "--tls-cert"),
        checks.check_base_url,
        lambda v: checks.check_url("https://auth.example.com/" + v, "--auth-signin"),
        lambda v: checks.parse_upstream("127.0.0.1:8888" + v),
        checks.parse_body_size,
    ],
    ids=["server-name", "listen", "path", "base-url", "url", "upstream", "body-size"],
)
def test_validators_refuse_config_syntax(check: Callable[[str], object], bad: str) -> None:
    """Nothing that nginx would read as syntax gets through, with a one-line message."""
    with pytest.raises(SnippetError) as info:
        check(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8443", ("", 8443)),
        ("0.0.0.0:443", ("0.0.0.0", 443)),
        ("[::]:8443", ("[::]", 8443)),
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
    ],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    """[ADDR:]PORT forms."""
    assert checks.parse_listen(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "65536",
        "http://x:1",
        "host:",
        ":8443",
        "[:1]:443",
        "[fe80::1%eth0]:443",
        "0127.0.0.1:1",
    ],
)
def test_parse_listen_rejects(value: str) -> None:
    """Not ports."""
    with pytest.raises(SnippetError, match="--listen"):
        checks.parse_listen(value)


@pytest.mark.parametrize(
    ("value", "proxy_pass"),
    [
        ("127.0.0.1:8888", "http://127.0.0.1:8888"),
        ("http://127.0.0.1:8888/", "http://127.0.0.1:8888"),
        ("https://10.0.0.5:8888", "https://10.0.0.5:8888"),
        ("http://[::1]:8888", "http://[::1]:8888"),
        ("jupyter-box:8888", "http://jupyter-box:8888"),
        ("unix:/run/jupyter/j.sock", "http://unix:/run/jupyter/j.sock:"),
    ],
)
def test_parse_upstream(value: str, proxy_pass: str) -> None:
    """Upstreams become proxy_pass targets without a URI part."""
    assert parse_upstream(value).proxy_pass == proxy_pass


@pytest.mark.parametrize("host", ["[:1]", "[fe80::1%eth0]", "0127.0.0.1", "1.2.3.256"])
def test_addresses_nginx_would_resolve_as_names_are_refused(host: str) -> None:
    """nginx reads a malformed address as a host name and fails at start-up: refuse it here."""
    with pytest.raises(SnippetError, match="--upstream"):
        parse_upstream(f"http://{host}:8888")
    with pytest.raises(SnippetError, match="--auth-request"):
        checks.check_url(f"http://{host}:4180/auth", "--auth-request")


@pytest.mark.parametrize(
    ("host", "address"),
    [("0x7f.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0127.0.0.1", "87.0.0.1")],
)
def test_addresses_in_octal_or_hex_are_refused_with_their_dotted_form(
    host: str, address: str
) -> None:
    """nginx resolves these through getaddrinfo, which reads them as addresses (checked with
    nginx: proxy_pass http://0x7f.1:PORT answers from 127.0.0.1): one line with the address."""
    with pytest.raises(SnippetError) as refused:
        parse_upstream(f"http://{host}:8888")
    assert str(refused.value) == (
        f"--upstream 'http://{host}:8888': {host} is the address {address} written another way "
        f"(octal or hex parts; nginx connects there); write http://{address}:8888"
    )
    with pytest.raises(SnippetError, match="--auth-request"):
        checks.check_url(f"http://{host}:4180/auth", "--auth-request")


@pytest.mark.parametrize("host", ["unix", "UNIX", "Unix"])
def test_a_host_named_unix_is_refused_wherever_nginx_reads_a_socket(host: str) -> None:
    """nginx reads ``unix:`` (any case) in proxy_pass and listen as a unix socket: proxy_pass
    http://unix:18779 made real nginx connect() to the socket file 18779 in its working folder
    (its error log: ``connect() to unix:18779 failed``). Found in review; refused in one line."""
    said = f"nginx reads a host named {host} as a unix socket"
    for value, check in [
        (f"http://{host}:8888", parse_upstream),
        *([(f"{host}:8888", parse_upstream)] if host != "unix" else []),  # unix: is the socket form
        (f"http://{host}:4180/oauth2/auth", lambda v: checks.check_url(v, "--auth-request")),
        (f"{host}:8443", checks.parse_listen),
    ]:
        with pytest.raises(SnippetError, match=re.escape(said)):
            check(value)
    with pytest.raises(SnippetError, match="not a host and port nginx can reach"):
        upstream_for(host, 8888)  # a runtime file's hostname
    assert parse_upstream("http://unix.example.com:8888").host == "unix.example.com"


@pytest.mark.parametrize("port", ["0", "99999"])
def test_upstream_port_outside_the_range_is_refused(port: str) -> None:
    """A port nginx cannot connect to is refused as such, not as a malformed address."""
    with pytest.raises(SnippetError, match=f"--upstream 'h:{port}': a port is 1-65535, not {port}"):
        parse_upstream(f"h:{port}")


def test_upstream_with_a_path_is_refused() -> None:
    """A URI part would make nginx rewrite paths; the message points at --base-url."""
    with pytest.raises(SnippetError, match="--base-url"):
        parse_upstream("http://127.0.0.1:8888/jp/")


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("localhost", "http://127.0.0.1:9"),
        ("", "http://127.0.0.1:9"),
        ("0.0.0.0", "http://127.0.0.1:9"),
        ("::", "http://[::1]:9"),
        ("::1", "http://[::1]:9"),
        ("10.1.2.3", "http://10.1.2.3:9"),
        ("127.0.0.2", "http://127.0.0.2:9"),
        ("2001:db8::5", "http://[2001:db8::5]:9"),
    ],
)
def test_upstream_for_runtime_hostnames(hostname: str, expected: str) -> None:
    """Wildcards and localhost are reached on loopback; a server bound to one address (even
    another loopback one) is reached there."""
    assert upstream_for(hostname, 9).proxy_pass == expected
    assert upstream_for(hostname, 9, secure=True).proxy_pass == expected.replace("http:", "https:")


def test_loopback_upstream_other_than_127_0_0_1() -> None:
    """127.0.0.2 is on this machine: the companion settings bind Jupyter there and trust the
    proxy's forwarded headers, as for 127.0.0.1."""
    settings = checks.companion_settings(options(upstream=upstream_for("127.0.0.2", 8888)))
    assert "c.ServerApp.ip = '127.0.0.2'" in settings
    assert "c.ServerApp.trust_xheaders = True" in settings


@pytest.mark.parametrize(
    ("hostname", "port"),
    [
        ("x;y", 8888),
        ("fe80::1%eth0", 8888),
        (":127.0.0.1", 8888),
        ("127.0.0.1;", 8888),
        ("a\nb", 8888),
        ("h", 0),
    ],
)
def test_upstream_for_bad_runtime_values(hostname: str, port: int) -> None:
    """A runtime file's hostname/port is named as such (not as --upstream, which nobody gave)."""
    with pytest.raises(SnippetError) as info:
        upstream_for(hostname, port)
    message = str(info.value)
    assert message.startswith("the server's hostname/port") and "--upstream" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("value", "size"), [("512m", "512m"), ("1G", "1g"), ("0", "0"), ("100000k", "100000k")]
)
def test_body_sizes(value: str, size: str) -> None:
    """nginx size syntax, lower-cased."""
    assert checks.parse_body_size(value) == size


@pytest.mark.parametrize(
    "check",
    [
        checks.parse_body_size,
        lambda v: checks.check_url(f"http://127.0.0.1:{v}/auth", "--auth-request"),
        checks.parse_listen,
        lambda v: checks.parse_upstream(f"127.0.0.1:{v}"),
    ],
    ids=["body-size", "url-port", "listen", "upstream-port"],
)
def test_only_ascii_digits(check: Callable[[str], object]) -> None:
    """Python's \\d takes Arabic-Indic digits; nginx reads them as garbage (`nginx -t` fails)."""
    with pytest.raises(SnippetError):
        check("\u0665\u0661\u0662")


def test_base_url_is_normalized() -> None:
    """Missing slashes are added; dot segments refused."""
    assert checks.check_base_url("jp") == "/jp/"
    assert checks.check_base_url("/") == "/"
    with pytest.raises(SnippetError, match=re.escape("'..'")):
        checks.check_base_url("/a/../b/")
