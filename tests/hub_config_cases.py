"""Per-rule cases of the hub's configuration (JH81x-JH82x): jupyterhub_config.py files that
must trigger the rule, and close ones that must not.

A case is the text of ``jupyterhub_config.py`` (``c = get_config()`` is prepended), with
optional ``files`` ({name: (content, mode)}, written beside it, e.g. the cookie secret file or
``jupyterhub.sqlite``) and ``env`` (variables set while JupyterHub loads it). ``{tmp}`` in a
string is the case's folder. The meta-tests in test_rules.py fail a hub rule without a case of
each kind; test_fixes.py applies each trigger's fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# 32 random bytes as jupyterhub writes them (hex), and a token as `openssl rand -hex 32` makes it.
GOOD_SECRET = "9c1f0e7a5b3d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4"
TOKEN = "5f0c3e1a9b7d2e4f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f"
# An advisory snapshot (dated far ahead, so it is chosen) flagging every jupyterhub version.
HUB_ADVISORY = {
    "format": "jupyter_hardening.advisories/1",
    "date": "2100-01-01",
    "source": "test data: one made-up advisory for every jupyterhub",
    "advisories": [
        {
            "id": "TEST-2100-0800",
            "aliases": ["CVE-2100-0800"],
            "modified": "2100-01-01T00:00:00Z",
            "published": "2100-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "jupyterhub"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
            "database_specific": {"severity": "HIGH"},
        }
    ],
}
ADVISORY_FILE = ("data/hardening/advisories.json", (json.dumps(HUB_ADVISORY), 0o644))

Case = dict[str, Any]
HUB_CASES: dict[str, dict[str, dict[str, Case]]] = {
    "JH810": {
        "trigger": {
            "default-every-interface": {"config": ""},
            "ip-all": {"config": "c.JupyterHub.ip = '0.0.0.0'"},
            "bind-url-lan": {"config": "c.JupyterHub.bind_url = 'http://10.1.2.3:8000'"},
            "external-proxy-warning": {
                "config": "c.ConfigurableHTTPProxy.should_start = False",
                "env": {"CONFIGPROXY_AUTH_TOKEN": TOKEN},
            },
        },
        "clean": {
            "loopback-behind-tls-proxy": {
                "config": "c.JupyterHub.bind_url = 'http://127.0.0.1:8000'"
            },
            "own-tls": {
                "config": "c.JupyterHub.ssl_cert = '/etc/ssl/hub.pem'\n"
                "c.JupyterHub.ssl_key = '/etc/ssl/hub.key'"
            },
            "unix-socket": {"config": "c.JupyterHub.bind_url = 'http+unix://%2Ftmp%2Fhub.sock'"},
            "external-proxy-https": {
                "config": "c.ConfigurableHTTPProxy.should_start = False\n"
                "c.JupyterHub.public_url = 'https://hub.example.org/'",
                "env": {"CONFIGPROXY_AUTH_TOKEN": TOKEN},
            },
        },
    },
    "JH811": {
        "trigger": {
            "hub-ip-all-local-spawner": {"config": "c.JupyterHub.hub_ip = '0.0.0.0'"},
            "hub-bind-url-all": {"config": "c.JupyterHub.hub_bind_url = 'http://:8081'"},
        },
        "clean": {
            "default-loopback": {"config": ""},
            "docker-needs-it": {
                "config": "c.JupyterHub.hub_ip = '0.0.0.0'\nc.JupyterHub.spawner_class = 'docker'"
            },
        },
    },
    "JH812": {
        "trigger": {
            "dummy": {"config": "c.JupyterHub.authenticator_class = 'dummy'"},
            "dummy-with-password": {
                "config": "c.JupyterHub.authenticator_class = 'dummy'\n"
                "c.DummyAuthenticator.password = 'correct horse battery'"
            },
        },
        "clean": {"pam": {"config": "c.JupyterHub.authenticator_class = 'pam'"}},
    },
    "JH813": {
        "trigger": {
            "native-open-signup-allow-all": {
                "config": "c.JupyterHub.authenticator_class = 'native'\n"
                "c.NativeAuthenticator.open_signup = True\n"
                "c.Authenticator.allow_all = True"
            }
        },
        "clean": {
            "native-admin-approves": {
                "config": "c.JupyterHub.authenticator_class = 'native'\n"
                "c.Authenticator.allow_all = True"
            },
            "open-signup-without-allow-all": {
                "config": "c.JupyterHub.authenticator_class = 'native'\n"
                "c.NativeAuthenticator.open_signup = True"
            },
        },
    },
    "JH814": {
        "trigger": {
            "github-allow-all": {
                "config": "c.JupyterHub.authenticator_class = 'github'\n"
                "c.Authenticator.allow_all = True"
            },
            # allow_all wins over the organizations
            "github-allow-all-with-orgs": {
                "config": "c.JupyterHub.authenticator_class = 'github'\n"
                "c.GitHubOAuthenticator.allow_all = True\n"
                "c.GitHubOAuthenticator.allowed_organizations = {'my-org'}"
            },
            "generic-allow-all-warning": {
                "config": "c.JupyterHub.authenticator_class = 'generic-oauth'\n"
                "c.Authenticator.allow_all = True"
            },
        },
        "clean": {
            "github-orgs": {
                "config": "c.JupyterHub.authenticator_class = 'github'\n"
                "c.GitHubOAuthenticator.allowed_organizations = {'my-org'}"
            },
            "pam-allow-all": {"config": "c.Authenticator.allow_all = True"},
        },
    },
    "JH815": {
        "trigger": {"admin-access": {"config": "c.JupyterHub.admin_access = True"}},
        "clean": {"default": {"config": ""}},
    },
    "JH816": {
        "trigger": {"admins": {"config": "c.Authenticator.admin_users = {'alice', 'bob'}"}},
        "clean": {"no-admins": {"config": "c.Authenticator.allowed_users = {'alice'}"}},
    },
    "JH817": {
        "trigger": {
            "word-in-config": {"config": "c.JupyterHub.cookie_secret = b'secret'"},
            "short-env": {"config": "", "env": {"JPY_COOKIE_SECRET": "abcdef01"}},
            "weak-file": {
                "config": "",
                "files": {"jupyterhub_cookie_secret": ("00" * 32 + "\n", 0o600)},
            },
        },
        "clean": {
            "generated-file": {
                "config": "",
                "files": {"jupyterhub_cookie_secret": (GOOD_SECRET + "\n", 0o600)},
            },
            "env": {"config": "", "env": {"JPY_COOKIE_SECRET": GOOD_SECRET}},
            "not-yet-generated": {"config": ""},
        },
    },
    "JH818": {
        "trigger": {
            "service-token": {
                "config": f"c.JupyterHub.services = [{{'name': 'grader', 'api_token': {TOKEN!r}}}]"
            },
            "api-tokens": {"config": f"c.JupyterHub.api_tokens = {{{TOKEN!r}: 'alice'}}"},
            "service-tokens": {
                "config": f"c.JupyterHub.services = [{{'name': 'grader'}}]\n"
                f"c.JupyterHub.service_tokens = {{{TOKEN!r}: 'grader'}}"
            },
            "cookie-secret-hex": {
                "config": f"c.JupyterHub.cookie_secret = bytes.fromhex({GOOD_SECRET!r})"
            },
            "proxy-token": {"config": f"c.ConfigurableHTTPProxy.auth_token = {TOKEN!r}"},
        },
        "clean": {
            "service-token-from-env": {
                "config": "import os\nc.JupyterHub.services = [{'name': 'grader', "
                "'api_token': os.environ['GRADER_TOKEN']}]",
                "env": {"GRADER_TOKEN": TOKEN},
            },
            "cookie-secret-from-env": {
                "config": "import os\n"
                "c.JupyterHub.cookie_secret = bytes.fromhex(os.environ['SECRET'])",
                "env": {"SECRET": GOOD_SECRET},
            },
        },
    },
    "JH819": {
        "trigger": {
            "cookie-secret-group-readable": {
                "config": "",
                "files": {"jupyterhub_cookie_secret": (GOOD_SECRET + "\n", 0o640)},
            },
            "cookie-secret-world-readable": {
                "config": "",
                "files": {"jupyterhub_cookie_secret": (GOOD_SECRET + "\n", 0o644)},
            },
            "sqlite-0644": {"config": "", "files": {"jupyterhub.sqlite": ("", 0o644)}},
        },
        "clean": {
            "both-0600": {
                "config": "",
                "files": {
                    "jupyterhub_cookie_secret": (GOOD_SECRET + "\n", 0o600),
                    "jupyterhub.sqlite": ("", 0o600),
                },
            },
            "postgres": {
                "config": "c.JupyterHub.db_url = 'postgresql://hub@db/hub'",
                "files": {"jupyterhub.sqlite": ("", 0o644)},
            },
        },
    },
    "JH820": {
        "trigger": {
            "external-proxy-no-token": {"config": "c.ConfigurableHTTPProxy.should_start = False"}
        },
        "clean": {
            "external-proxy-env-token": {
                "config": "c.ConfigurableHTTPProxy.should_start = False",
                "env": {"CONFIGPROXY_AUTH_TOKEN": TOKEN},
            },
            "hub-starts-proxy": {"config": ""},
        },
    },
    "JH821": {
        "trigger": {
            "simple-allow-all": {
                "config": "c.JupyterHub.spawner_class = 'simple'\n"
                "c.JupyterHub.authenticator_class = 'dummy'"
            },
            "simple-two-users": {
                "config": "c.JupyterHub.spawner_class = 'simple'\n"
                "c.Authenticator.allowed_users = {'alice', 'bob'}"
            },
        },
        "clean": {
            "simple-one-user": {
                "config": "c.JupyterHub.spawner_class = 'simple'\n"
                "c.Authenticator.allowed_users = {'alice'}"
            },
            "localprocess": {"config": "c.Authenticator.allow_all = True"},
        },
    },
    "JH822": {
        "trigger": {"default": {"config": ""}},
        "clean": {
            "disabled": {"config": "c.Spawner.disable_user_config = True"},
            "env": {"config": "c.Spawner.environment = {'JUPYTERHUB_DISABLE_USER_CONFIG': '1'}"},
        },
    },
    "JH823": {
        "trigger": {"default": {"config": ""}},
        "clean": {
            "subdomains": {
                "config": "c.JupyterHub.subdomain_host = 'https://hub.example.org'\n"
                "c.JupyterHub.cookie_host_prefix_enabled = True"
            }
        },
    },
    "JH824": {
        "trigger": {"docker": {"config": "c.JupyterHub.spawner_class = 'docker'"}},
        "clean": {
            "docker-internal-ssl": {
                "config": "c.JupyterHub.spawner_class = 'docker'\nc.JupyterHub.internal_ssl = True"
            },
            "local": {"config": ""},
        },
    },
    "JH825": {
        "trigger": {
            "subdomains-without-prefix": {
                "config": "c.JupyterHub.subdomain_host = 'https://hub.example.org'"
            },
            "prefix-on-one-origin": {"config": "c.JupyterHub.cookie_host_prefix_enabled = True"},
        },
        "clean": {
            "subdomains-with-prefix": {
                "config": "c.JupyterHub.subdomain_host = 'https://hub.example.org'\n"
                "c.JupyterHub.cookie_host_prefix_enabled = True"
            },
            "default": {"config": ""},
        },
    },
    "JH826": {
        "trigger": {
            "advisory-for-installed-jupyterhub": {
                "config": "",
                "files": dict([ADVISORY_FILE]),
                "env": {"JUPYTER_DATA_DIR": "{tmp}/data"},
            }
        },
        "clean": {"shipped-snapshot-current-jupyterhub": {"config": ""}},
    },
}


def fill(text: str, root: Path) -> str:
    """``text`` with ``{tmp}`` replaced by the case's folder."""
    return text.replace("{tmp}", str(root))


def write_case(case: Case, root: Path) -> tuple[Path, dict[str, str]]:
    """Write the case's config and files under ``root``: (config path, its environment)."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "jupyterhub_config.py"
    config.write_text("c = get_config()  # noqa: F821\n" + fill(case["config"], root) + "\n")
    for name, (content, mode) in case.get("files", {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)
    env = {k: fill(v, root) for k, v in case.get("env", {}).items()}
    return config, env


# Variables a case must not inherit from the machine running the tests.
HUB_VARIABLES = (
    "JPY_COOKIE_SECRET",
    "CONFIGPROXY_AUTH_TOKEN",
    "JUPYTERHUB_CRYPT_KEY",
    "GRADER_TOKEN",
    "SECRET",
)


def clean_environ(root: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of a hub-check run for a case: no hub secrets but the case's own."""
    environ = {k: v for k, v in os.environ.items() if k not in HUB_VARIABLES}
    environ["JUPYTER_DATA_DIR"] = str(root / "no-data")
    environ.update(env)
    return environ
