"""`jupyter hardening nginx-check` on the configs people have: the seeds' tutorials, JupyterHub's
documented example, and the config nginx-snippet writes (which must be clean, gixy included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .fixtures import require_tool
from .nginx_util import nginx_conf_including, nginx_path

CONFIGS = Path(__file__).with_name("nginx_configs")


def nginx_check(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "jupyter_hardening.cli", "nginx-check", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=env,
    )


def findings(*args: str) -> tuple[int, list[tuple[str, str, int, str]]]:
    """(exit status, [(id, name, line, fix)]) of a JSON run."""
    done = nginx_check(*args, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    return done.returncode, [(f["id"], f["name"], f["line"], f["fix"]) for f in report["findings"]]


def ids(found: list[tuple[str, str, int, str]]) -> set[str]:
    """The rule ids (and gixy plugin names) found."""
    return {name if rule == "JH769" else rule for rule, name, _, _ in found}


# Seed 001 (ko) links to nginx guides but prints no nginx config: four seeds have one.
SEEDS = {
    "seed_000.conf": (
        1,
        {
            # listen 8888 without TLS; Host $host drops 8888; /jp URI part; 10M; 60 s.
            ("JH761", 8),
            ("JH750", 17),
            ("JH754", 13),
            ("JH755", 22),
            ("JH756", 13),
        },
    ),
    "seed_002.conf": (
        0,
        {
            # TLSv1/1.1 and HIGH; no HSTS; 1m; 60 s; no X-Forwarded-Proto; proxy_buffering off.
            ("JH757", 15),
            ("JH757", 16),
            ("JH759", 36),
            ("JH755", 37),
            ("JH756", 37),
            ("JH762", 37),
            ("JH760", 45),
        },
    ),
    "seed_003.conf": (1, {("JH761", 3), ("JH751", 9), ("JH755", 6), ("JH760", 12)}),
    "seed_004.conf": (
        # No Host at all (nginx sends 127.0.0.1:8889), `ssl on`, no HSTS, 1m, 60 s.
        1,
        {("JH750", 14), ("JH758", 9), ("JH759", 12), ("JH755", 14), ("JH756", 14), ("JH762", 14)},
    ),
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_configs(name: str) -> None:
    """Each seed's nginx gets the findings we would defend, at the right lines."""
    status, expected = SEEDS[name]
    code, found = findings(str(CONFIGS / name))
    assert code == status
    got = {(rule, line) for rule, _, line, _ in found if rule != "JH769"}
    assert got == expected


def test_seed_000_fixes_name_the_lines() -> None:
    """The fixes are the exact lines: the port the server listens on, proxy_pass without /jp."""
    _, found = findings(str(CONFIGS / "seed_000.conf"))
    fixes = {rule: fix for rule, _, _, fix in found}
    assert fixes["JH750"] == "proxy_set_header Host $host:8888;"
    assert fixes["JH754"] == "proxy_pass http://websocket;"
    assert fixes["JH755"].startswith("client_max_body_size 512m;")


def test_jupyterhub_documented_example() -> None:
    """JupyterHub's docs: TLS 1.0/1.1 and old ciphers, `ssl on`, $http_host, defaults for
    body size and timeouts, proxy_buffering off; the websocket lines and HSTS are right."""
    code, found = findings(str(CONFIGS / "jupyterhub_docs.conf"), "--port", "8000")
    assert code == 0  # warnings only: it works, on 443
    assert {(rule, line) for rule, _, line, _ in found if rule != "JH769"} == {
        ("JH758", 26),
        ("JH757", 33),
        ("JH757", 36),
        ("JH755", 45),
        ("JH756", 45),
        ("JH751", 47),
        ("JH760", 56),
    }


def test_generated_config_is_clean(tmp_path: Path) -> None:
    """What nginx-snippet writes gives no finding, gixy's included; through `nginx -T` too."""
    snippet = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_hardening.cli",
            "nginx-snippet",
            "--upstream=http://127.0.0.1:8888",
            "--base-url=/jp/",
            "--server-name=jupyter.example.com",
            "--listen=127.0.0.1:8443",
            "--http-redirect",
            f"--tls-cert={tmp_path}/fullchain.pem",
            f"--tls-key={tmp_path}/privkey.pem",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    conf = tmp_path / "jupyter.conf"
    conf.write_text(snippet)
    done = nginx_check(str(conf))
    assert done.returncode == 0, done.stdout
    assert "OK: nothing to fix (0 error, 0 warning, 0 info)" in done.stdout

    nginx = require_tool(nginx_path() or "nginx", "nginx (Debian nginx-light)")
    from .nginx_util import make_ca

    ca = make_ca(tmp_path)
    assert ca.cert == tmp_path / "fullchain.pem"
    main = nginx_conf_including(tmp_path / "prefix", snippet)
    dump = subprocess.run(
        [nginx, "-e", "stderr", "-p", str(main.parent), "-c", str(main), "-T"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    from jupyter_hardening.nginxcheck import Target, audit, read_nginx_t

    assert audit(read_nginx_t(dump), Target(frozenset({8888}))) == []
    broken = dump.replace("proxy_set_header Host $host:8443;", "proxy_set_header Host $host;")
    (issue,) = audit(read_nginx_t(broken), Target(frozenset({8888})))
    assert (issue.id, issue.file, issue.fix) == (
        "JH750",
        str(tmp_path / "prefix" / "snippet.conf"),
        "proxy_set_header Host $host:8443;",
    )


def test_an_include_loop_is_one_line_and_a_shared_include_is_not(tmp_path: Path) -> None:
    """A file that includes itself, or two that include each other: nginx -t recurses until it
    crashes (a segfault here), crossplane reads each file once and nothing was judged. Exit 2
    naming the include; a file included twice without a loop is read as usual."""
    (tmp_path / "self.conf").write_text("http { include self.conf; }\n")
    (tmp_path / "a.conf").write_text("http { include b.conf; }\n")
    (tmp_path / "b.conf").write_text("include a.conf;\n")
    (tmp_path / "twice.conf").write_text("http { include one.conf; include one.conf; }\n")
    (tmp_path / "one.conf").write_text("server { listen 80; }\n")
    for name, text in (
        ("self.conf", "self.conf:1: include self.conf leads back to"),
        ("a.conf", "b.conf:1: include a.conf leads back to"),
    ):
        done = nginx_check(str(tmp_path / name), "--no-gixy")
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and text in done.stderr, done.stderr
    done = nginx_check(str(tmp_path / "twice.conf"), "--no-gixy")
    assert done.returncode == 0 and "JH768" in done.stdout, (done.stdout, done.stderr)


def test_usage_errors_are_one_line() -> None:
    """A missing file, an unknown option or a bad format: exit 2, one line, no traceback."""
    for args, text in (
        (["/nonexistent/jupyter.conf"], "/nonexistent/jupyter.conf: no such file"),
        ([str(CONFIGS)], f"{CONFIGS}: a folder, not a file"),
        (["--format", "yaml"], "--format must be text, json or sarif"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--port", "x"], "--port 'x' is not a port number"),
        (["--upstream", "h:99999"], "--upstream 'h:99999': a port is 1-65535, not 99999"),
        (["--upstream", "http://u:pw@h:0"], "--upstream 'http://<user>@h:0': a port is 1-65535"),
        # A / in the password: URL parsers end the host there; it is hidden all the same.
        (["--upstream", "http://u:p/w@h:0"], "--upstream 'http://<user>@h:0': a port is 1-65535"),
    ):
        done = nginx_check(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and text in done.stderr
        assert "Traceback" not in done.stderr


def test_blocks_nested_too_deep_are_one_line(tmp_path: Path) -> None:
    """5000 blocks one inside another: crossplane gives up without a line; the message names
    the file and says why, with no ':None' and no traceback."""
    conf = tmp_path / "deep.conf"
    conf.write_text("http {\n" + "location /a {\n" * 5000 + "}\n" * 5001)
    done = nginx_check(str(conf), "--port", "8888")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr == (
        f"jupyter hardening nginx-check: {conf}: blocks nest too deep to be read "
        "(about 900 levels or more); nest them less\n"
    )


def test_accepted_risks_are_honoured(tmp_path: Path) -> None:
    """c.Hardening.accepted_risks in jupyter_server_config.py, as the server and `check` read
    it: seed 003's only error (no TLS) shown as accepted, not counted, and exit 0."""
    from .servers import JupyterHome

    home = JupyterHome(tmp_path / "jhome")
    reason = "TLS ends at the load balancer"
    home.write_config(f"c.Hardening.accepted_risks = {{'JH761': {reason!r}}}\n")
    seed = str(CONFIGS / "seed_003.conf")
    done = nginx_check(seed, "--format", "json", "--no-gixy", env=home.env())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    by_id = {f["id"]: f for f in report["findings"]}
    assert (by_id["JH761"]["accepted"], by_id["JH761"]["reason"]) == (True, reason)
    assert not by_id["JH751"]["accepted"]
    assert report["counts"] == {"error": 0, "warning": 2, "info": 1, "accepted": 1}
    text = nginx_check(seed, "--no-gixy", env=home.env()).stdout
    assert f"JH761 no-tls [accepted: {reason}]" in text
    # Without the config the same file fails; a reason left out is one line, exit 2.
    assert nginx_check(seed, "--no-gixy", env=JupyterHome(tmp_path / "bare").env()).returncode == 1
    home.write_config("c.Hardening.accepted_risks = {'JH761': ''}\n")
    bad = nginx_check(seed, env=home.env())
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "c.Hardening.accepted_risks['JH761'] needs a reason" in bad.stderr


def test_only_the_jupyter_port_is_judged() -> None:
    """--port narrows the audit to the locations that proxy to that port."""
    done = nginx_check(str(CONFIGS / "seed_003.conf"), "--port", "9999")
    assert done.returncode == 0
    assert "JH768 no-jupyter-location" in done.stdout


def test_fix_writes_a_corrected_config_nginx_accepts(tmp_path: Path) -> None:
    """--fix OUTPUT: the seeds' pattern on 8443 becomes a config nginx -t accepts and
    nginx-check finds clean; the diff shows the changed lines; the original is untouched."""
    from .nginx_util import make_ca, nginx_conf_including, nginx_test

    nginx = require_tool(nginx_path() or "nginx", "nginx (Debian nginx-light)")
    ca = make_ca(tmp_path / "ca")
    seed = (CONFIGS / "seed_000.conf").read_text()
    seed = seed.replace("192.168.99.100:8888", "127.0.0.1:8888")
    seed = seed.replace(
        "listen       8888;",
        f"listen 127.0.0.1:8443; ssl on; ssl_certificate {ca.cert}; "
        f"ssl_certificate_key {ca.key}; ssl_protocols TLSv1 TLSv1.1 TLSv1.2;",
    )
    seed = seed.replace("proxy_set_header Connection 'upgrade';", "")
    source = tmp_path / "jupyter.conf"
    source.write_text(seed)
    fixed = tmp_path / "jupyter.fixed.conf"
    done = nginx_check(str(source), "--port", "8888", "--fix", str(fixed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert source.read_text() == seed
    assert "-        proxy_set_header Host $host;\n" in done.stdout
    assert "+        proxy_set_header Host $host:8443;\n" in done.stdout
    assert "+        proxy_set_header Connection $connection_upgrade;\n" in done.stdout
    assert "+map $http_upgrade $connection_upgrade {\n" in done.stdout
    assert "OK: nothing to fix (0 error, 0 warning, 0 info)" in done.stdout
    conf = nginx_conf_including(tmp_path / "prefix", fixed.read_text())
    result = nginx_test(conf, nginx)
    assert result.returncode == 0, result.stderr


def test_fix_never_in_place(tmp_path: Path) -> None:
    """--fix onto the file checked (or a second FILE): exit 2, one line, nothing written."""
    source = tmp_path / "jupyter.conf"
    source.write_text((CONFIGS / "seed_003.conf").read_text())
    before = source.read_text()
    done = nginx_check(str(source), "--fix", str(source))
    assert done.returncode == 2
    assert "never fixed in place" in done.stderr and done.stderr.count("\n") == 1
    assert source.read_text() == before
    done = nginx_check(str(source), str(source), "--fix", str(tmp_path / "out.conf"))
    assert done.returncode == 2 and "exactly one FILE" in done.stderr


def test_sarif_locates_each_finding_at_its_line(tmp_path: Path) -> None:
    """--format sarif: valid SARIF 2.1.0, the same findings, each at its file and line; the exit
    status is the same as in the other formats."""
    import jsonschema

    seed = tmp_path / "seed_000.conf"
    seed.write_text((CONFIGS / "seed_000.conf").read_text())
    status, expected = findings(str(seed), "--no-gixy")
    done = nginx_check(str(seed), "--no-gixy", "--format", "sarif", cwd=tmp_path)
    assert done.returncode == status == 1, done.stderr
    log = json.loads(done.stdout)
    schema = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
    jsonschema.validate(log, json.loads(schema.read_text()))
    (run,) = log["runs"]
    got = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    assert got == [(rule, "seed_000.conf", line) for rule, _, line, _ in expected]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {rule for rule, *_ in expected}
