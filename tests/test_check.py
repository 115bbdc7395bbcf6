"""`jupyter hardening check` as a user runs it, and the seeds' recipes through it."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from .cli import hardening
from .servers import JupyterHome, jupyter_bin

SEEDS = sorted((Path(__file__).parent / "seeds").glob("*.txt"))


def check(
    home: JupyterHome, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `jupyter hardening check` in ``home``."""
    return hardening("check", *args, home=home, env=env)


def report_of(home: JupyterHome, *args: str, **kw: object) -> tuple[int, dict[str, object]]:
    """Exit status and JSON report."""
    out = check(home, "--format", "json", *args, **kw)  # type: ignore[arg-type]
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def ids(report: dict[str, object]) -> set[str]:
    """Rule ids in a report."""
    return {f["id"] for f in report["findings"]}  # type: ignore[index, union-attr]


def test_default_is_ok(home: JupyterHome) -> None:
    """Exit 0 and an empty report for a default server."""
    out = check(home)
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout.startswith("jupyter_hardening ") and "OK: the server would start" in out.stdout
    )


def test_json_schema(home: JupyterHome) -> None:
    """The JSON report has the documented keys, and flags reach the ServerApp."""
    code, report = report_of(home, "--ServerApp.ip=0.0.0.0", "--NotebookApp.allow_origin=*")
    assert code == 1
    assert {"version", "verdict", "findings", "counts"} <= set(report)
    assert report["verdict"] == "refuse" and ids(report) >= {"JH101", "JH301"}
    assert set(report["counts"]) >= {"error", "warning", "info"}  # type: ignore[arg-type]
    for finding in report["findings"]:  # type: ignore[union-attr]
        assert set(finding) == {
            "id",
            "name",
            "severity",
            "traits",
            "message",
            "fix",
            "accepted",
            "reason",
            "where",
        }


def test_text_report_names_fix_and_hint(home: JupyterHome) -> None:
    """The text report shows each finding with traits and fix, and how to accept instead."""
    out = check(home, "--ip=0.0.0.0")
    assert out.returncode == 1
    assert "REFUSE" in out.stdout and "JH101 remote-without-tls [blocks startup]" in out.stdout
    assert (
        "fix: change or remove --ip=0.0.0.0 on the command line; c.ServerApp.ip = '127.0.0.1'"
        in out.stdout
        and "c.Hardening.accepted_risks" in out.stdout
    )


def test_environment_is_read(home: JupyterHome) -> None:
    """JUPYTER_TOKEN counts like the server would see it."""
    code, report = report_of(home, "--ip=0.0.0.0", env={"JUPYTER_TOKEN": "jupyter"})
    assert code == 1 and "JH201" in ids(report)
    assert "jupyter" not in json.dumps(report["settings"]).replace("jupyter_server", "").replace(
        "Jupyter", ""
    )


def test_accepted_and_refuse_at_from_config(home: JupyterHome) -> None:
    """c.Hardening in the config file changes the verdict and exit status."""
    home.write_config(
        "c.ServerApp.ip = '0.0.0.0'\n"
        "c.Hardening.accepted_risks = {'JH101': 'lab VLAN', 'JH999': 'typo'}\n"
    )
    code, report = report_of(home)
    assert code == 0 and report["verdict"] == "warn"
    by_id = {f["id"]: f for f in report["findings"]}  # type: ignore[union-attr]
    assert by_id["JH101"]["accepted"] is True and by_id["JH101"]["reason"] == "lab VLAN"
    assert "JH002" in by_id


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        (["--format", "xml"], "", "--format must be one of text, json, sarif"),
        ([], "c.ServerApp.ip = (\n", "jupyter_server_config.py:1 fails to load (SyntaxError"),
        ([], "c.Hardening.refuse_at = 'sometimes'\n", "refuse_at"),
        ([], "c.ServerApp.port = 'eighty'\n", "invalid: The 'port' trait"),
        (["--ServerApp.ip=nosuchhost.invalid"], "", "does not resolve"),
        (
            ["--ServerApp.ip=nosuchhost.invalid"],
            "c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}\n",
            "does not resolve",
        ),
        ([], "c.ServerApp.allow_origin_pat = '('\n", "allow_origin_pat is not a valid"),
    ],
    ids=[
        "bad-format",
        "syntax-error",
        "bad-hardening-value",
        "wrong-type",
        "ip-does-not-resolve",
        "ip-does-not-resolve-extension-disabled",
        "origin-pattern-not-a-regex",
    ],
)
def test_usage_and_config_errors_exit_2(
    home: JupyterHome, args: list[str], config: str, needle: str
) -> None:
    """Usage or config errors: exit 2, a message naming the problem, never a traceback."""
    if config:
        home.write_config(config)
    out = check(home, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.parametrize(
    ("config", "secret"),
    [
        ("c.ServerApp.cookie_secret = 'my-cookie-secret-42'\n", "my-cookie-secret-42"),
        ("c.IdentityProvider.token = 914276530811\n", "914276530811"),
        ("c.Hardening.public_url = 'https://admin:hunter2x@jupyter.example.com/'\n", "hunter2x"),
    ],
    ids=["cookie-secret-as-str", "token-as-int", "public-url-with-password"],
)
def test_rejected_secret_is_not_repeated(home: JupyterHome, config: str, secret: str) -> None:
    """A secret of the wrong type or place: exit 2, one line naming the setting, not its value."""
    home.write_config(config)
    out = check(home)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert secret not in out.stdout + out.stderr, out.stderr
    assert config.split("=")[0].split(".")[-1].strip() in out.stderr, out.stderr


@pytest.mark.parametrize(
    "option",
    [
        "--IdentityProvider.token",
        "--ServerApp.token",
        "--NotebookApp.token",
        "--PasswordIdentityProvider.hashed_password",
        "--ServerApp.password",
        "--ServerApp.cookie_secret",
    ],
)
def test_repeated_secret_option_is_not_repeated(home: JupyterHome, option: str) -> None:
    """A secret given twice: traitlets' refusal would list both values (and jupyterlab logs it
    with a traceback); one line names the option instead, exit 2."""
    out = check(home, f"{option}=first-s3cret-value", f"{option}=second-s3cret-value")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"{option} is given twice" in out.stderr
    assert "s3cret" not in out.stdout + out.stderr, out.stderr


def test_list_rules(home: JupyterHome) -> None:
    """--list-rules prints every documented id: the rules, the live ones and nginx-check's."""
    out = check(home, "--list-rules")
    from jupyter_hardening.rules import DOCUMENTED, RULES

    assert out.returncode == 0 and all(rule.id in out.stdout for rule in DOCUMENTED)
    assert "JH711  error    proxy-websocket" in out.stdout and "(live, /hardening)" in out.stdout
    listed = json.loads(check(home, "--list-rules", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [rule.id for rule in DOCUMENTED]
    assert listed[0] == {
        "id": RULES[0].id,
        "name": RULES[0].name,
        "severity": RULES[0].severity.label,
        "traits": list(RULES[0].traits),
        "summary": RULES[0].summary,
        "judged": "settings",
    }
    judged = {r["id"]: r["judged"] for r in listed}
    assert (judged["JH711"], judged["JH752"]) == ("requests", "nginx")
    assert judged["JH810"] == "hub" and "(hub-check)" in out.stdout


def _seed(path: Path) -> tuple[list[str], str, str, str, set[str]]:
    argv: list[str] = []
    config_name, config_lines, verdict, expect = "", [], "", set()
    in_config = False
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("argv:"):
            argv = shlex.split(line.split(":", 1)[1])
        elif line.startswith("config:"):
            config_name, in_config = line.split(":", 1)[1].strip(), True
        elif line.startswith("verdict:"):
            verdict, in_config = line.split(":", 1)[1].strip(), False
        elif line.startswith("expect:"):
            expect = set(line.split(":", 1)[1].split())
        elif in_config:
            config_lines.append(line)
    return argv, config_name, "\n".join(config_lines) + "\n", verdict, expect


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_recipe_verdict(home: JupyterHome, seed: Path) -> None:
    """Each tutorial's Jupyter settings get the verdict we defend in the seed file's comment."""
    argv, config_name, config, verdict, expect = _seed(seed)
    if config_name:
        home.write_config(config, name=config_name)
    code, report = report_of(home, *argv)
    assert report["verdict"] == verdict, report["findings"]
    assert code == (1 if verdict == "refuse" else 0)
    assert ids(report) == expect, report["findings"]


def test_disabled_extension_is_reported(home: JupyterHome) -> None:
    """With the extension switched off, check still audits and says the server won't refuse."""
    home.write_config("c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}\n")
    code, report = report_of(home)
    assert ids(report) == {"JH003"} and report["verdict"] == "warn" and code == 0


def test_output_that_cannot_be_written_is_one_line(home: JupyterHome) -> None:
    """`> /dev/full` is one line and exit 2; a reader that went away (`| head`) is no traceback."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [jupyter_bin("jupyter"), "hardening", "check", "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=home.env(),
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        == "jupyter hardening: cannot write the output: No space left on device"
    )

    process = subprocess.Popen(
        [jupyter_bin("jupyter"), "hardening", "check", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=home.env(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_token_file_that_is_not_text_is_one_line(home: JupyterHome, tmp_path: Path) -> None:
    """jupyter_server reads JUPYTER_TOKEN_FILE as text: bytes that do not decode are a traceback
    there, one line here (and not one byte of the file is repeated)."""
    token_file = tmp_path / "token"
    token_file.write_bytes(b"\xff\xfe secret-bytes")
    out = hardening("check", home=home, env={"JUPYTER_TOKEN_FILE": str(token_file)})
    assert out.returncode == 2, out.stdout + out.stderr
    assert "cannot be read (not utf-8 text)" in out.stderr and "Traceback" not in out.stderr
    assert "secret-bytes" not in out.stderr and "0xff" not in out.stderr
