"""Every rule against configs that must trigger it and close ones that must not.

The configs go through a real ServerApp (config loading, trait validation, deprecated-name
forwarding, init_webapp), so a case tests what a user's config file really does.
"""

from __future__ import annotations

import ast
import base64
import copy
import datetime as dt
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jupyter_hardening.docs import sections
from jupyter_hardening.extension import OfflineAudit
from jupyter_hardening.report import Report, evaluate, run_rules
from jupyter_hardening.rules import RULES, RULES_BY_ID, Severity
from jupyter_hardening.snapshot import Snapshot, token_strength

from .certs import TLSFiles
from .rule_cases import CASES
from .servers import keep_advisories_fresh


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Certificates for every TLS situation the rules judge."""
    root = tmp_path_factory.mktemp("tls")
    files = TLSFiles(root)
    files.pair("good")
    files.pair("self", self_signed=True)
    files.pair("expired", days=-1)
    files.pair("expiring", days=7)
    files.pair("open", key_mode=0o644)
    files.pair("rsa1024", key=rsa.generate_private_key(65537, 1024))
    files.pair("rsa2048", key=rsa.generate_private_key(65537, 2048))
    (root / "garbage.pem").write_text("this is not a certificate\n")
    # Cookie secret files: jupyter_server's own kind (base64 of 32 random bytes), a word, and
    # a good one left readable by everyone.
    for name, content, mode in (
        ("cookie_secret", base64.encodebytes(os.urandom(32)), 0o600),
        ("weak_cookie_secret", b"secret\n", 0o600),
        ("open_cookie_secret", base64.encodebytes(os.urandom(32)), 0o644),
    ):
        (root / name).write_bytes(content)
        (root / name).chmod(mode)
    return root


DATA = Path(__file__).parent / "data"


def _fill(value: Any, tls: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{tls}", str(tls)).replace("{data}", str(DATA))
    if isinstance(value, dict):
        return {k: _fill(v, tls) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, tls) for v in value]
    return value


@pytest.fixture
def audit(tls_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Load a config dict into a real ServerApp (not serving) and evaluate the rules on it."""
    from jupyter_server.serverapp import ServerApp
    from traitlets.config import Config

    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    for var in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    # Rules about root must judge the same way whoever runs the tests.
    monkeypatch.setattr("jupyter_hardening.snapshot.os.geteuid", lambda: 0)

    # An advisory snapshot the user installed must not change the cases' results.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    keep_advisories_fresh(tmp_path / "data")

    def run(config: dict[str, Any]) -> Report:
        config = _fill(copy.deepcopy(config), tls_dir)
        hub_env = config.pop("_hub", None)
        argv = config.pop("_argv", [])
        for name, value in config.pop("environ", {}).items():  # e.g. JUPYTER_DATA_DIR
            monkeypatch.setenv(name, value)
        server = config.setdefault("ServerApp", {})
        server.setdefault("root_dir", str(tmp_path))
        server.setdefault("jpserver_extensions", {"jupyter_hardening": True})
        if hub_env is not None:  # a JupyterHub user server: the real singleuser extension
            from jupyter_hardening.hub import hub_env as spawn_env
            from jupyter_hardening.hub import offline_singleuser

            for key, value in spawn_env("alice", {"PATH": "", **hub_env}).items():
                if key.startswith("JUPYTERHUB_"):
                    monkeypatch.setenv(key, value)
            offline_singleuser().clear_instance()
            server["jpserver_extensions"]["jupyterhub"] = True
        ServerApp.clear_instance()
        app = ServerApp.instance(config=Config(config), log_level="CRITICAL")
        # The audit `check` runs: the extension's own hooks stand down instead of exiting.
        offline = OfflineAudit(app)
        app.initialize(argv=argv, find_extensions=False, new_httpserver=False)
        ServerApp.clear_instance()
        assert offline.report is not None
        return offline.report

    return run


def _params(kind: str) -> list[Any]:
    return [
        pytest.param(rule_id, config, id=f"{rule_id}-{name}")
        for rule_id, cases in CASES.items()
        for name, config in cases[kind].items()
    ]


@pytest.mark.parametrize(("rule_id", "config"), _params("trigger"))
def test_rule_triggers(audit, rule_id: str, config: dict[str, Any]) -> None:
    """The config must produce a finding of this rule."""
    report = audit(config)
    assert rule_id in {i.finding.id for i in report.items}, [i.finding for i in report.items]


@pytest.mark.parametrize(("rule_id", "config"), _params("clean"))
def test_rule_stays_quiet(audit, rule_id: str, config: dict[str, Any]) -> None:
    """The close config must not produce a finding of this rule."""
    report = audit(config)
    assert rule_id not in {i.finding.id for i in report.items}, [i.finding for i in report.items]


def test_every_rule_has_cases_of_both_kinds() -> None:
    """Meta-test: a rule without a triggering and a quiet case is untested."""
    missing = [
        rule.id
        for rule in RULES
        if not CASES.get(rule.id, {}).get("trigger") or not CASES[rule.id].get("clean")
    ]
    assert not missing, f"rules without trigger+clean cases in tests/rule_cases.py: {missing}"
    assert set(CASES) <= set(RULES_BY_ID), set(CASES) - set(RULES_BY_ID)


def test_rules_are_documented() -> None:
    """Ids are unique and banded; each rule has a name, a summary, traits and a docstring."""
    assert len(RULES_BY_ID) == len(RULES)
    for rule in RULES:
        assert rule.id[:2] == "JH" and len(rule.id) == 5, rule.id
        assert rule.name and rule.summary and rule.traits and type(rule).__doc__, rule.id
        assert all("." in t for t in rule.traits), rule.id


def test_default_server_is_silent(audit) -> None:
    """A default `jupyter server` on localhost with its generated token: no finding at all."""
    report = audit({})
    assert report.items == ()
    assert report.verdict == "ok"


def test_every_error_carries_a_fix(audit) -> None:
    """Messages speak to the person at the keyboard: every error names its fix."""
    everything = {"ServerApp": {"ip": "0.0.0.0", "allow_origin": "*", "disable_check_xsrf": True}}
    for item in audit(everything).items:
        assert item.finding.fix and item.finding.message


def test_expiring_is_a_warning_expired_an_error(audit) -> None:
    """One rule, two severities: expired blocks, expiring only warns."""
    expired = audit(CASES["JH403"]["trigger"]["expired"])
    expiring = audit(CASES["JH403"]["trigger"]["expiring"])
    sev = {
        r: next(i.finding.severity for i in r.items if i.finding.id == "JH403")
        for r in (expired, expiring)
    }
    assert sev[expired] == Severity.ERROR and expired.verdict == "refuse"
    assert sev[expiring] == Severity.WARNING and expiring.verdict == "warn"


def test_loopback_without_auth_is_worse_with_remote_access(audit) -> None:
    """DNS rebinding makes a tokenless loopback server with allow_remote_access an error."""
    cases = CASES["JH103"]["trigger"]
    local = audit(cases["no-token-local"])
    rebinding = audit(cases["no-token-remote-access"])
    assert [i.finding.severity for i in local.items if i.finding.id == "JH103"] == [
        Severity.WARNING
    ]
    assert [i.finding.severity for i in rebinding.items if i.finding.id == "JH103"] == [
        Severity.ERROR
    ]


def test_policy_accepts_and_thresholds() -> None:
    """Accepted findings never refuse and keep their reason; refuse_at moves the threshold."""
    snap = Snapshot(ip="0.0.0.0", ip_is_loopback=False, allow_origin="*")
    assert evaluate(snap).verdict == "refuse"
    accepted = evaluate(snap, "error", {"JH101": "lab network only", "JH301": "demo"})
    assert accepted.verdict == "ok"
    assert {(i.finding.id, i.reason) for i in accepted.items} == {
        ("JH101", "lab network only"),
        ("JH301", "demo"),
    }
    assert evaluate(snap, "never").verdict == "warn"
    warn_only = Snapshot(password_kind="sha1")
    assert evaluate(warn_only, "error").verdict == "warn"
    assert evaluate(warn_only, "warning").verdict == "refuse"


def test_snapshot_keeps_no_secret(audit) -> None:
    """The snapshot holds facts about the token and password, never their values."""
    token = "c0ffee" * 8
    report = audit(
        {
            "IdentityProvider": {"token": token},
            "PasswordIdentityProvider": {
                "hashed_password": CASES["JH203"]["trigger"]["sha1"]["PasswordIdentityProvider"][
                    "hashed_password"
                ]
            },
        }
    )
    text = repr(report.snapshot) + repr(report.to_json())
    assert token not in text and "16852a1f8ee36f7cb716b74d3e0127efee106c1c" not in text
    assert report.to_json()["settings"]["IdentityProvider.token"] == "set (48 characters)"


def test_token_strength() -> None:
    """Generated tokens are strong; words and repetition are not."""
    assert (
        token_strength("ab" * 24) < 80 <= token_strength("3f1c0ffee5d7a8b9c0d1e2f3a4b5c6d7e8f90a1b")
    )
    assert token_strength("") == 0


def test_certificate_expiry_uses_snapshot_time(audit) -> None:
    """A cert valid today becomes 'expiring' when the snapshot is taken 80 days later."""
    from jupyter_hardening.record import replace

    snap = audit(CASES["JH403"]["clean"]["90-days"]).snapshot
    later = replace(snap, taken_at=snap.taken_at + dt.timedelta(days=80))
    assert "JH403" in {i.finding.id for i in evaluate(later).items}


# Origins an attacker can use: anything, an opaque origin, and look-alikes of app.example.com.
LOOKALIKE_ORIGINS = (
    "https://attacker.example",
    "null",
    "https://app.example.com.attacker.net",
    "https://app-example.com",
)


@pytest.mark.parametrize(
    "pattern",
    [
        r"https?://",
        r"https://app\.example\.com",
        r"^https://app\.example\.com$",
        r"https://app.example.com",
        r"^https://app\.example\.com.*",
        r"https://.*\.example\.com",
        r"https?://.*",
    ],
)
def test_origin_rules_agree_with_the_installed_server(audit, pattern: str) -> None:
    """JH301/JH302 fire exactly when this jupyter_server's own check lets a look-alike in."""
    from jupyter_server import utils

    matches = getattr(utils, "origin_matches_pat", lambda pat, origin: bool(re.match(pat, origin)))
    with warnings.catch_warnings():  # the server warns when a pattern matched only a prefix
        warnings.simplefilter("ignore", UserWarning)
        admitted = [o for o in LOOKALIKE_ORIGINS if matches(pattern, o)]
    fired = {i.finding.id for i in audit({"ServerApp": {"allow_origin_pat": pattern}}).items}
    assert bool(fired & {"JH301", "JH302"}) == bool(admitted), (admitted, fired)


def test_prefix_matching_servers_need_the_dollar() -> None:
    """Before jupyter_server 2.18 (re.match), every branch of the pattern needs its '$'."""
    old = {"origin_pat_fullmatch": False}
    for pattern in (r"https://app\.example\.com", r"^https://a\.example\.com|^https://b\.x\.com$"):
        found = {f.id: f for f in run_rules(Snapshot(allow_origin_pat=pattern, **old))}
        assert "JH302" in found and found["JH302"].fix.endswith("$'"), pattern
    found = {f.id for f in run_rules(Snapshot(allow_origin_pat=r"^(https://a\.b\.com)$", **old))}
    assert not found & {"JH301", "JH302"}
    assert "JH301" in {f.id for f in run_rules(Snapshot(allow_origin_pat="https?://", **old))}


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ("cryptography.x509.load_pem_x509_certificate", "cert_error"),
        ("cryptography.hazmat.primitives.serialization.load_pem_private_key", "key_error"),
    ],
)
def test_unexpected_cryptography_error_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, field: str
) -> None:
    """An exception cryptography raises outside ValueError/OSError (UnsupportedAlgorithm, here
    injected: no file on disk makes this cryptography raise it) is JH401, not a crashed audit."""
    from cryptography.exceptions import UnsupportedAlgorithm

    from jupyter_hardening.snapshot import inspect_tls

    cert, key = TLSFiles(tmp_path).pair("server")

    def unsupported(*args: Any, **kwargs: Any) -> Any:
        raise UnsupportedAlgorithm("no backend for this algorithm")

    monkeypatch.setattr(target, unsupported)
    tls = inspect_tls(str(cert), str(key), "")
    assert "UnsupportedAlgorithm" in getattr(tls, field)


def test_page_anchors_stay_unique_when_a_rule_fires_twice(audit, tmp_path: Path) -> None:
    """A missing certificate and a missing key are two JH401 findings: two distinct anchors."""
    from jupyter_hardening.page import Links, render_html

    missing = tmp_path / "nowhere"
    report = audit(
        {
            "ServerApp": {"certfile": str(missing / "cert.pem"), "keyfile": str(missing / "k.pem")},
            "Hardening": {"refuse_at": "never", "accepted_risks": {"JH401": "test"}},
        }
    )
    assert [i.finding.id for i in report.items].count("JH401") == 2
    page = render_html(report, Links("/", "/logo", "/favicon", "/hardening?format=json"), 60)
    ids = re.findall(r' id="([^"]+)"', page.decode())
    assert "JH401" in ids and "JH401-2" in ids
    assert len(ids) == len(set(ids)), ids


def test_tls_paths_with_tilde_are_unusable(audit, tls_dir: Path, monkeypatch) -> None:
    """jupyter_server opens certfile/keyfile/client_ca as written: '~' is not expanded, and
    tornado fails with a traceback. The audit must say so, even when ~/good.pem exists."""
    monkeypatch.setenv("HOME", str(tls_dir))
    report = audit({"ServerApp": {"certfile": "~/good.pem", "keyfile": "~/good.key"}})
    messages = [i.finding.message for i in report.items if i.finding.id == "JH401"]
    assert len(messages) == 2 and all("does not expand '~'" in m for m in messages), messages
    assert report.verdict == "refuse"
    report = audit({"ServerApp": {"client_ca": "~/good.pem"}})
    assert "JH407" in {i.finding.id for i in report.items}


def test_tornado_settings_overrides_are_named_in_message_and_fix(audit) -> None:
    """A security key in tornado_settings wins over the trait: the finding says where it is set,
    since setting the trait alone would not fix it, and the report shows the effective value."""
    report = audit({"ServerApp": {"tornado_settings": {"disable_check_xsrf": True}}})
    (item,) = [i for i in report.items if i.finding.id == "JH205"]
    assert item.finding.message.startswith("ServerApp.tornado_settings['disable_check_xsrf']")
    assert item.finding.fix.startswith("remove 'disable_check_xsrf' from c.ServerApp.tornado_")
    assert report.to_json()["settings"]["ServerApp.disable_check_xsrf"] is True
    report = audit({"ServerApp": {"tornado_settings": {"allow_origin_pat": re.compile(".*")}}})
    assert report.to_json()["settings"]["ServerApp.allow_origin_pat"] == ".*"
    plain = audit({"ServerApp": {"disable_check_xsrf": True}})
    (item,) = [i for i in plain.items if i.finding.id == "JH205"]
    assert item.finding.fix.startswith("c.ServerApp.disable_check_xsrf = False")


def test_accept_hint_names_each_rule_once(audit) -> None:
    """JH401 fires for the certificate and for the key: the hint is still a valid dict literal
    with one key per rule (a repeated key would silently keep only the last reason)."""
    from jupyter_hardening.report import accept_hint

    report = audit({"ServerApp": {"certfile": "/nonexistent/cert.pem"}})
    assert [i.finding.id for i in report.blocking] == ["JH401", "JH401"]
    hint = accept_hint(report.blocking)
    assert hint == "c.Hardening.accepted_risks = {'JH401': '<why this is acceptable here>'}"


def test_settings_say_which_values_come_from_tornado_settings(audit) -> None:
    """The effective value is shown under the trait's name, with the override named beside it."""
    settings = audit({"ServerApp": {"tornado_settings": {"disable_check_xsrf": True}}}).to_json()[
        "settings"
    ]
    assert settings["ServerApp.disable_check_xsrf"] is True
    assert settings["ServerApp.tornado_settings overrides"] == ["disable_check_xsrf"]
    assert audit({}).to_json()["settings"]["ServerApp.tornado_settings overrides"] == []


def test_registry_is_ordered_by_id() -> None:
    """Meta-test: RULES (and so every report and docs/rules.md) runs in id order."""
    ids = [rule.id for rule in RULES]
    assert ids == sorted(ids)


def test_class_name_is_the_rule_name() -> None:
    """Meta-test: a rule is found by its name in one step (``token-whitespace`` is
    ``TokenWhitespace``; acronyms such as TLS may stay upper case)."""
    wrong = [
        (rule.name, type(rule).__name__)
        for rule in RULES
        if type(rule).__name__.lower() != rule.name.replace("-", "")
    ]
    assert not wrong, wrong


def test_docstrings_show_the_insecure_example_and_the_fix() -> None:
    """Meta-test: each docstring has an ``Insecure::`` (or ``Broken::``) block and a ``Fix::``
    block, which docs/rules.md shows."""
    missing = []
    for rule in RULES:
        labels = [text for text, code in sections(type(rule).__doc__ or "") if code]
        if not any(label.startswith(("Insecure", "Broken")) for label in labels):
            missing.append(f"{rule.id} insecure example")
        if not any(label.startswith("Fix") for label in labels):
            missing.append(f"{rule.id} fix")
    assert not missing, missing


def config_example(code: str) -> dict[str, Any] | None:
    """A literal block of ``c.Section.trait = literal`` lines as a config dict, or None when the
    block is anything else (a shell command, a file listing, a header value)."""
    try:
        statements = ast.parse(code).body
    except SyntaxError:
        return None
    config: dict[str, Any] = {}
    for statement in statements:
        match statement:
            case ast.Assign(
                targets=[ast.Attribute(value=ast.Attribute(value=ast.Name(id="c"), attr=section))]
            ):
                try:
                    value = ast.literal_eval(statement.value)
                except ValueError:
                    return None
                config.setdefault(section, {})[statement.targets[0].attr] = value  # type: ignore[attr-defined]
            case _:
                return None
    return config or None


# Config examples that cannot be run as they are written, and why.
EXAMPLES_NOT_RUN = {
    # the seeds' legacy NotebookApp names, migrated by notebook_shim when extensions load, which
    # this fixture skips (`jupyter hardening check` on these lines reports the rule)
    ("JH203", "Insecure"),
    ("JH501", "Insecure"),
    # paths of a real host (certbot's live folder, /etc/jupyter) that do not exist here
    ("JH401", "Fix"),
    ("JH404", "Insecure"),
    ("JH404", "Fix"),
    ("JH407", "Insecure"),
    # the fix renames the setting: the old line is removed, not overridden
    ("JH204", "Fix"),
    # a JupyterHub user server (jupyterhub_config.py, JUPYTERHUB_* variables): judged by the
    # hub cases in rule_cases.py and tests/test_jupyterhub.py
    ("JH801", "Insecure"),
    ("JH801", "Fix"),
    ("JH802", "Insecure"),
    ("JH802", "Fix"),
}


def test_docstring_config_examples_do_what_they_say(audit) -> None:
    """A docstring's insecure config triggers its rule, and its fix written over it clears it:
    the examples in docs/rules.md are run, not just shown."""
    ran = []
    for rule in RULES:
        blocks = {
            text.split(" ", 1)[0]: config_example(code)
            for text, code in sections(type(rule).__doc__ or "")
            if code
        }
        insecure, fix = blocks.get("Insecure"), blocks.get("Fix")
        if insecure is not None and (rule.id, "Insecure") not in EXAMPLES_NOT_RUN:
            found = {i.finding.id for i in audit(insecure).items}
            assert rule.id in found, (rule.id, "insecure example does not trigger", insecure)
            ran.append(f"{rule.id}-insecure")
            if fix is not None and (rule.id, "Fix") not in EXAMPLES_NOT_RUN:
                fixed = copy.deepcopy(insecure)
                for section, values in fix.items():
                    fixed.setdefault(section, {}).update(values)
                found = {i.finding.id for i in audit(fixed).items}
                assert rule.id not in found, (rule.id, "fix does not clear it", fixed)
                ran.append(f"{rule.id}-fix")
    # The examples that are config are run: a parser that silently finds none would pass.
    assert len(ran) >= 38, ran


# --- the hub's configuration (hub-check): its own registry, the same meta-tests ---------------


def test_every_hub_rule_has_cases_of_both_kinds() -> None:
    """Meta-test: each JH81x-JH82x rule has jupyterhub_config.py cases that must trigger it and
    close ones that must not (run in tests/test_hub_check.py)."""
    from jupyter_hardening.rules import HUB_RULES, HUB_RULES_BY_ID

    from .hub_config_cases import HUB_CASES

    missing = [
        rule.id
        for rule in HUB_RULES
        if not HUB_CASES.get(rule.id, {}).get("trigger") or not HUB_CASES[rule.id].get("clean")
    ]
    assert not missing, f"hub rules without trigger+clean cases in hub_config_cases.py: {missing}"
    assert set(HUB_CASES) <= set(HUB_RULES_BY_ID), set(HUB_CASES) - set(HUB_RULES_BY_ID)


def test_hub_rules_are_banded_ordered_and_documented() -> None:
    """Hub rule ids are JH810 upward (JH801/JH802 judge user servers), unique across both
    registries, in order; each is found by its name and shows its insecure example and fix."""
    from jupyter_hardening.rules import HUB_RULES

    ids = [rule.id for rule in HUB_RULES]
    assert ids == sorted(ids) and all("JH810" <= i <= "JH899" for i in ids), ids
    assert not set(ids) & set(RULES_BY_ID)
    for rule in HUB_RULES:
        assert rule.name and rule.summary and rule.traits and type(rule).__doc__, rule.id
        assert type(rule).__name__.lower() == rule.name.replace("-", ""), rule.name
        labels = [text for text, code in sections(type(rule).__doc__ or "") if code]
        assert any(label.startswith("Insecure") for label in labels), rule.id
        assert any(label.startswith("Fix") for label in labels), rule.id
