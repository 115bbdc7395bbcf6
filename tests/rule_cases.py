"""Per-rule cases: configs that must trigger the rule, and close ones that must not.

Each config is what a user writes in jupyter_server_config.py, as a dict. ``{tls}`` in a string
is replaced by the folder of test certificates (see tests/certs.py and ``tls_dir`` in test_rules).
The meta-test in test_rules.py fails any rule without at least one case of each kind.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

ARGON2 = "argon2:$argon2id$v=19$m=10240,t=10,p=8$JdAN3fe9J45NvK/EPuGCvA$O/tbxglbwRpOFuBNTYrymAEH6370Q2z+eS1eF4GM6Do"
SHA1 = "sha1:5952f1c3c7ec:16852a1f8ee36f7cb716b74d3e0127efee106c1c"  # from seed 003
STRONG_TOKEN = "3f1c0ffee5d7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f"
TLS = {"certfile": "{tls}/good.pem", "keyfile": "{tls}/good.key"}
REMOTE_TLS = {"ip": "0.0.0.0", **TLS}
PUBLIC = "https://jupyter.example.com:8443/jp/"
PROXIED = {
    "ip": "127.0.0.1",
    "base_url": "/jp/",
    "trust_xheaders": True,
    "local_hostnames": ["localhost", "jupyter.example.com"],
}


def csp(value: Any, key: str = "Content-Security-Policy") -> dict[str, Any]:
    """tornado_settings carrying a custom Content-Security-Policy."""
    return {"tornado_settings": {"headers": {key: value}}}


# The test extension tests/leaky_ext.py: /leaky answers without login.
LEAKY = {"jpserver_extensions": {"jupyter_hardening": True, "tests.leaky_ext": True}}
# A JUPYTER_DATA_DIR whose installed advisory snapshot flags every jupyter-server version.
FUTURE_ADVISORY = "{data}/advisories-future"

Config = dict[str, Any]
# rule id -> {"trigger": {case name: config}, "clean": {case name: config}}
CASES: dict[str, dict[str, dict[str, Config]]] = {
    "JH001": {
        "trigger": {
            "headers-not-dict": {
                "ServerApp": {"tornado_settings": {"headers": "frame-ancestors 'self'"}}
            },
            # tornado sends bytes on pages, but API handlers fail concatenating them to a str
            "csp-bytes": {"ServerApp": csp(b"frame-ancestors 'self'")},
            "csp-list": {"ServerApp": csp(["frame-ancestors 'self'"])},
            # jupyter_server then tests the Host with `in` on a string: 'local' passes
            "local-hostnames-str-in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"local_hostnames": "localhost"}}
            },
            "origin-pat-int-in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"allow_origin_pat": 5}}
            },
        },
        "clean": {
            "headers-dict": {"ServerApp": {"tornado_settings": {"headers": {"X-Team": "ds"}}}}
        },
    },
    "JH002": {
        "trigger": {"typo-id": {"Hardening": {"accepted_risks": {"JH999": "typo"}}}},
        "clean": {"known-id": {"Hardening": {"accepted_risks": {"JH406": "internal CA"}}}},
    },
    "JH003": {
        "trigger": {
            "disabled": {"ServerApp": {"jpserver_extensions": {"jupyter_hardening": False}}}
        },
        "clean": {"enabled": {"ServerApp": {"jpserver_extensions": {"jupyter_hardening": True}}}},
    },
    "JH101": {
        "trigger": {
            "all-interfaces": {"ServerApp": {"ip": "0.0.0.0"}},
            "star": {"ServerApp": {"ip": "*"}},
            "ipv6-any": {"ServerApp": {"ip": "::"}},
        },
        "clean": {
            "loopback": {"ServerApp": {"ip": "127.0.0.1"}},
            "remote-with-tls": {"ServerApp": REMOTE_TLS},
            "unix-socket": {"ServerApp": {"sock": "{tls}/jupyter.sock"}},
        },
    },
    "JH102": {
        "trigger": {"no-token": {"ServerApp": REMOTE_TLS, "IdentityProvider": {"token": ""}}},
        "clean": {
            "token": {"ServerApp": REMOTE_TLS},
            "password": {
                "ServerApp": REMOTE_TLS,
                "IdentityProvider": {"token": ""},
                "PasswordIdentityProvider": {"hashed_password": ARGON2},
            },
        },
    },
    "JH103": {
        "trigger": {
            "no-token-local": {"IdentityProvider": {"token": ""}},
            "no-token-remote-access": {
                "IdentityProvider": {"token": ""},
                "ServerApp": {"allow_remote_access": True},
            },
            # tornado_settings is applied over the trait by jupyter_server
            "no-token-remote-access-in-tornado-settings": {
                "IdentityProvider": {"token": ""},
                "ServerApp": {"tornado_settings": {"allow_remote_access": True}},
            },
        },
        "clean": {
            "default": {},
            "remote-no-token-is-jh102": {
                "ServerApp": REMOTE_TLS,
                "IdentityProvider": {"token": ""},
            },
        },
    },
    "JH104": {
        "trigger": {"root-remote": {"ServerApp": {**REMOTE_TLS, "allow_root": True}}},
        "clean": {"root-local": {"ServerApp": {"allow_root": True}}},
    },
    "JH201": {
        "trigger": {
            "word": {"ServerApp": REMOTE_TLS, "IdentityProvider": {"token": "jupyter123"}},
            "repetitive": {"ServerApp": REMOTE_TLS, "IdentityProvider": {"token": "ab" * 24}},
        },
        "clean": {
            "strong": {"ServerApp": REMOTE_TLS, "IdentityProvider": {"token": STRONG_TOKEN}},
            "short-but-local": {"IdentityProvider": {"token": "jupyter123"}},
        },
    },
    "JH206": {
        "trigger": {
            "newline-from-token-file": {"IdentityProvider": {"token": STRONG_TOKEN + "\n"}},
            "leading-space": {"IdentityProvider": {"token": " " + STRONG_TOKEN}},
        },
        "clean": {
            "strong": {"IdentityProvider": {"token": STRONG_TOKEN}},
            "inner-characters-only": {"IdentityProvider": {"token": "a b" + STRONG_TOKEN}},
        },
    },
    "JH207": {
        "trigger": {
            "guessable-in-config": {"ServerApp": {"cookie_secret": b"secret"}},
            "word-in-cookie-secret-file": {
                "ServerApp": {"cookie_secret_file": "{tls}/weak_cookie_secret"}
            },
            "in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"cookie_secret": "hunter2"}}
            },
        },
        "clean": {
            "generated-by-jupyter-server": {},
            "strong-in-config": {"ServerApp": {"cookie_secret": STRONG_TOKEN.encode()}},
            # 32 bytes of SHA-256: as random as os.urandom(32) to every test, and the same in every
            # run (bytes(range(...)) is a count: weak, and judged so)
            "random-bytes-in-config": {
                "ServerApp": {"cookie_secret": hashlib.sha256(b"rule_cases").digest()}
            },
            # nothing to forge a login for
            "no-login": {
                "ServerApp": {"cookie_secret": b"secret"},
                "IdentityProvider": {"token": ""},
            },
        },
    },
    "JH208": {
        "trigger": {
            "cookie-secret-file-0644": {
                "ServerApp": {"cookie_secret_file": "{tls}/open_cookie_secret"}
            },
        },
        "clean": {
            "cookie-secret-file-0600": {"ServerApp": {"cookie_secret_file": "{tls}/cookie_secret"}},
            # jupyter_server does not read the file when the secret is configured
            "file-unused": {
                "ServerApp": {
                    "cookie_secret": STRONG_TOKEN.encode(),
                    "cookie_secret_file": "{tls}/open_cookie_secret",
                }
            },
        },
    },
    "JH202": {
        "trigger": {
            "plaintext": {"PasswordIdentityProvider": {"hashed_password": "my secret"}},
            "bare-argon2": {
                "PasswordIdentityProvider": {"hashed_password": ARGON2.removeprefix("argon2:")}
            },
            # passwd_check raises InvalidHashError on every login attempt
            "argon2-prefix-garbage": {"PasswordIdentityProvider": {"hashed_password": "argon2:x"}},
            # a digest that is not a full sha1 hexdigest can never compare equal
            "sha1-short-digest": {
                "PasswordIdentityProvider": {"hashed_password": "sha1::0123abcd"}
            },
            "sha1-as-bytes": {"PasswordIdentityProvider": {"hashed_password": b"sha1:aa:bb"}},
            # read from a file with open().read(): the newline makes every login fail
            "argon2-trailing-newline": {
                "PasswordIdentityProvider": {"hashed_password": ARGON2 + "\n"}
            },
            "sha1-trailing-newline": {"PasswordIdentityProvider": {"hashed_password": SHA1 + "\n"}},
        },
        "clean": {"argon2": {"PasswordIdentityProvider": {"hashed_password": ARGON2}}},
    },
    "JH203": {
        "trigger": {"sha1": {"PasswordIdentityProvider": {"hashed_password": SHA1}}},
        "clean": {"argon2": {"PasswordIdentityProvider": {"hashed_password": ARGON2}}},
    },
    "JH204": {
        "trigger": {"serverapp-password": {"ServerApp": {"password": ARGON2}}},
        "clean": {
            "new-name": {"PasswordIdentityProvider": {"hashed_password": ARGON2}},
            "empty-old-name": {"ServerApp": {"password": ""}, "NotebookApp": {"password": ""}},
        },
    },
    "JH205": {
        "trigger": {
            "xsrf-off": {"ServerApp": {"disable_check_xsrf": True}},
            # jupyter_server applies tornado_settings over its own settings: this wins
            "xsrf-off-in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"disable_check_xsrf": True}}
            },
        },
        "clean": {
            "xsrf-on": {"ServerApp": {"disable_check_xsrf": False}},
            "xsrf-on-in-tornado-settings": {
                "ServerApp": {
                    "disable_check_xsrf": True,
                    "tornado_settings": {"disable_check_xsrf": False},
                }
            },
        },
    },
    "JH301": {
        "trigger": {
            "star": {"ServerApp": {"allow_origin": "*"}},
            "null": {"ServerApp": {"allow_origin": "null"}},
            "pattern-dot-star": {"ServerApp": {"allow_origin_pat": ".*"}},
            "pattern-https-anything": {"ServerApp": {"allow_origin_pat": r"https?://.*"}},
            # used as it is when the trait is empty; a compiled regex works there too
            "compiled-pattern-in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"allow_origin_pat": re.compile(".*")}}
            },
            "pattern-in-tornado-settings": {
                "ServerApp": {"tornado_settings": {"allow_origin_pat": "https?://.*"}}
            },
        },
        "clean": {
            "exact-origin": {"ServerApp": {"allow_origin": "https://app.example.com"}},
            "anchored-pattern": {"ServerApp": {"allow_origin_pat": r"^https://app\.example\.com$"}},
            # jupyter_server >= 2.18 matches the whole origin: a bare prefix matches nothing
            "prefix-only-pattern": {"ServerApp": {"allow_origin_pat": r"https?://"}},
            # the trait, when set, replaces tornado_settings['allow_origin_pat']
            "trait-replaces-tornado-settings-pattern": {
                "ServerApp": {
                    "allow_origin_pat": r"^https://app\.example\.com$",
                    "tornado_settings": {"allow_origin_pat": ".*"},
                }
            },
        },
    },
    "JH302": {
        "trigger": {
            "unescaped-dot": {"ServerApp": {"allow_origin_pat": r"https://app.example.com"}},
            "trailing-wildcard": {
                "ServerApp": {"allow_origin_pat": r"^https://app\.example\.com.*"}
            },
            # issue 11: a class after the host admits app.example.com.evil.net
            "class-after-host": {
                "ServerApp": {"allow_origin_pat": r"https://app\.example\.com[^/]*"}
            },
            "any-dot-com": {"ServerApp": {"allow_origin_pat": r"https://.*\.com"}},
            "under-public-suffix": {"ServerApp": {"allow_origin_pat": r"https://.*\.github\.io"}},
            "plain-http-too": {"ServerApp": {"allow_origin_pat": r"https?://app\.example\.com"}},
            "other-tld": {"ServerApp": {"allow_origin_pat": r"https://app\.example\.[a-z]+"}},
            "exact-origin-over-http": {"ServerApp": {"allow_origin": "http://app.example.com"}},
        },
        "clean": {
            "anchored": {"ServerApp": {"allow_origin_pat": r"https://app\.example\.com$"}},
            # no '$' needed where jupyter_server uses re.fullmatch (>= 2.18)
            "unanchored-full-match": {
                "ServerApp": {"allow_origin_pat": r"https://app\.example\.com"}
            },
            "any-subdomain": {"ServerApp": {"allow_origin_pat": r"https://.*\.example\.com"}},
            "optional-www": {"ServerApp": {"allow_origin_pat": r"https://(www\.)?example\.org"}},
            "labels-and-port": {
                "ServerApp": {"allow_origin_pat": r"https://[a-z]+\.example\.com:8443"}
            },
            "exact-https-origin": {"ServerApp": {"allow_origin": "https://app.example.com"}},
            "local-dev-ports": {"ServerApp": {"allow_origin_pat": r"http://localhost:\d+"}},
        },
    },
    "JH303": {
        "trigger": {
            "star-credentials": {"ServerApp": {"allow_origin": "*", "allow_credentials": True}},
            "null-credentials": {"ServerApp": {"allow_origin": "null", "allow_credentials": True}},
        },
        "clean": {
            "exact-credentials": {
                "ServerApp": {"allow_origin": "https://app.example.com", "allow_credentials": True}
            },
            "z-anchored-credentials": {
                "ServerApp": {
                    "allow_origin_pat": r"^https://app\.example\.com\Z",
                    "allow_credentials": True,
                }
            },
        },
    },
    "JH304": {
        "trigger": {
            "nested-repeat": {
                "ServerApp": {"allow_origin_pat": r"https://([a-z]+\.?)+\.example\.com"}
            },
            "star-of-star": {"ServerApp": {"allow_origin_pat": r"(.*)*"}},
            "overlapping-alternatives": {
                "ServerApp": {"allow_origin_pat": r"https://(.|\s)*\.example\.com"}
            },
            "two-wildcards-in-a-row": {
                "ServerApp": {"allow_origin_pat": r"https://.*\..*\.example\.com"}
            },
        },
        "clean": {
            "labels-repeat": {
                "ServerApp": {"allow_origin_pat": r"https://([a-z0-9-]+\.)+example\.com"}
            },
            "one-wildcard": {"ServerApp": {"allow_origin_pat": r"https://.*\.example\.com"}},
        },
    },
    "JH401": {
        "trigger": {
            "placeholder-path": {
                "ServerApp": {"certfile": "/absolute/path/to/your/certificate/mycert.pem"}
            },
            "key-missing": {
                "ServerApp": {"certfile": "{tls}/good.pem", "keyfile": "{tls}/nope.key"}
            },
            "not-pem": {
                "ServerApp": {"certfile": "{tls}/garbage.pem", "keyfile": "{tls}/good.key"}
            },
            "directory": {"ServerApp": {"certfile": "{tls}", "keyfile": "{tls}/good.key"}},
        },
        "clean": {"good": {"ServerApp": TLS}},
    },
    "JH402": {
        "trigger": {
            "world-readable": {
                "ServerApp": {"certfile": "{tls}/open.pem", "keyfile": "{tls}/open.key"}
            }
        },
        "clean": {
            "mode-600": {"ServerApp": TLS},
            # the 0644 certificate is taken as the key file but holds no key (that is JH401)
            "certfile-without-key": {"ServerApp": {"certfile": "{tls}/good.pem"}},
        },
    },
    "JH403": {
        "trigger": {
            "expired": {
                "ServerApp": {"certfile": "{tls}/expired.pem", "keyfile": "{tls}/expired.key"}
            },
            "expiring": {
                "ServerApp": {"certfile": "{tls}/expiring.pem", "keyfile": "{tls}/expiring.key"}
            },
        },
        "clean": {"90-days": {"ServerApp": TLS}},
    },
    "JH404": {
        "trigger": {
            "other-key": {"ServerApp": {"certfile": "{tls}/good.pem", "keyfile": "{tls}/self.key"}}
        },
        "clean": {"pair": {"ServerApp": TLS}},
    },
    "JH405": {
        "trigger": {
            "rsa-1024": {
                "ServerApp": {"certfile": "{tls}/rsa1024.pem", "keyfile": "{tls}/rsa1024.key"}
            }
        },
        "clean": {
            "rsa-2048": {
                "ServerApp": {"certfile": "{tls}/rsa2048.pem", "keyfile": "{tls}/rsa2048.key"}
            }
        },
    },
    "JH406": {
        "trigger": {
            "self-signed": {
                "ServerApp": {"certfile": "{tls}/self.pem", "keyfile": "{tls}/self.key"}
            }
        },
        "clean": {"ca-signed": {"ServerApp": TLS}},
    },
    "JH407": {
        "trigger": {"missing-ca": {"ServerApp": {**TLS, "client_ca": "{tls}/no-such-ca.pem"}}},
        "clean": {"ca": {"ServerApp": {**TLS, "client_ca": "{tls}/ca.pem"}}},
    },
    "JH501": {
        "trigger": {"full-url": {"ServerApp": {"base_url": "http://www.yourdomain.com/notebok"}}},
        "clean": {
            "path": {"ServerApp": {"base_url": "/notebook/"}},
            "no-slashes": {"ServerApp": {"base_url": "notebook"}},
        },
    },
    "JH502": {
        "trigger": {
            "space-semicolon": {"ServerApp": {"base_url": "/my notebooks;v2/"}},
            "brace-dollar": {"ServerApp": {"base_url": "/jp${x}/"}},
            # regex operators in jupyter_server's URL patterns: Jupyter moves to /aab/
            "plus": {"ServerApp": {"base_url": "/a+b/"}},
        },
        "clean": {
            "plain": {"ServerApp": {"base_url": "/jp/"}},
            "tilde-dash": {"ServerApp": {"base_url": "/~ana/nb-1/"}},
            # a '.' matches itself too: JupyterHub's /user/<name>/ with dotted names works
            "dotted-user": {"ServerApp": {"base_url": "/user/ana.lima/"}},
        },
    },
    "JH601": {
        "trigger": {"no-frame-ancestors": {"ServerApp": csp("default-src 'self'")}},
        "clean": {
            "self": {"ServerApp": csp("frame-ancestors 'self'")},
            "default": {},
            "x-frame-options-instead": {
                "ServerApp": {
                    "tornado_settings": {
                        "headers": {
                            "Content-Security-Policy": "default-src 'self'",
                            "X-Frame-Options": "SAMEORIGIN",
                        }
                    }
                }
            },
        },
    },
    "JH602": {
        "trigger": {
            "star": {"ServerApp": csp("frame-ancestors *")},
            "scheme-only": {"ServerApp": csp("frame-ancestors 'self' https:")},
            "plain-http-host": {"ServerApp": csp("frame-ancestors 'self' http://my.example.com")},
            "star-as-bytes": {"ServerApp": csp(b"frame-ancestors *")},
            "https-star (issue 11)": {"ServerApp": csp("frame-ancestors 'self' https://*")},
            "wildcard-under-public-suffix": {
                "ServerApp": csp("frame-ancestors 'self' https://*.github.io")
            },
            "bare-wildcard-under-public-suffix": {
                "ServerApp": csp("frame-ancestors 'self' *.appspot.com")
            },
            "http-star": {"ServerApp": csp("frame-ancestors http://*")},
        },
        "clean": {
            "https-host": {"ServerApp": csp("frame-ancestors 'self' https://my.example.com")},
            # the owner of example.com controls its subdomains
            "own-subdomains": {"ServerApp": csp("frame-ancestors 'self' https://*.example.com")},
            # jupyter_server matches the key case-sensitively and sends its own policy instead
            "lowercase-key-ignored": {
                "ServerApp": csp("frame-ancestors *", key="content-security-policy")
            },
        },
    },
    "JH603": {
        "trigger": {
            "quoted-host (seed 001)": {
                "ServerApp": csp("frame-ancestors 'https://my.example.com' 'self' ")
            },
            "unquoted-self": {"ServerApp": csp("frame-ancestors self")},
            "unquoted-none": {"ServerApp": csp("default-src 'self'; frame-ancestors none")},
        },
        "clean": {
            "unquoted-host": {"ServerApp": csp("frame-ancestors https://my.example.com 'self'")},
            "quoted-none": {"ServerApp": csp("frame-ancestors 'none'")},
        },
    },
    "JH701": {
        "trigger": {"xheaders-remote": {"ServerApp": {**REMOTE_TLS, "trust_xheaders": True}}},
        "clean": {"xheaders-loopback": {"ServerApp": {"ip": "127.0.0.1", "trust_xheaders": True}}},
    },
    "JH702": {
        "trigger": {
            "https-public-no-xheaders": {
                "ServerApp": {**PROXIED, "trust_xheaders": False},
                "Hardening": {"public_url": PUBLIC},
            },
            "secure-cookie-off": {
                "ServerApp": PROXIED,
                "IdentityProvider": {"secure_cookie": False},
                "Hardening": {"public_url": PUBLIC},
            },
        },
        "clean": {
            "companions": {
                "ServerApp": PROXIED,
                "IdentityProvider": {"secure_cookie": True},
                "Hardening": {"public_url": PUBLIC},
            }
        },
    },
    "JH703": {
        "trigger": {
            "root-path": {
                "ServerApp": {**PROXIED, "base_url": "/"},
                "Hardening": {"public_url": PUBLIC},
            }
        },
        "clean": {"same-path": {"ServerApp": PROXIED, "Hardening": {"public_url": PUBLIC}}},
    },
    "JH704": {
        "trigger": {
            "default-local-hostnames": {
                "ServerApp": {**PROXIED, "local_hostnames": ["localhost"]},
                "Hardening": {"public_url": PUBLIC},
            },
            "tornado-settings-local-hostnames": {
                "ServerApp": {**PROXIED, "tornado_settings": {"local_hostnames": ["localhost"]}},
                "Hardening": {"public_url": PUBLIC},
            },
            # jupyter_server takes an address in Host only when it is loopback
            "address-listed-in-vain": {
                "ServerApp": {**PROXIED, "local_hostnames": ["localhost", "203.0.113.5"]},
                "Hardening": {"public_url": "https://203.0.113.5:8443/jp/"},
            },
        },
        "clean": {
            "server-name-listed": {"ServerApp": PROXIED, "Hardening": {"public_url": PUBLIC}},
            "address-with-remote-access": {
                "ServerApp": {**PROXIED, "allow_remote_access": True},
                "Hardening": {"public_url": "https://203.0.113.5:8443/jp/"},
            },
            "loopback-address": {
                "ServerApp": PROXIED,
                "Hardening": {"public_url": "https://127.0.0.1:8443/jp/"},
            },
        },
    },
    "JH705": {
        "trigger": {
            "public-but-all-interfaces": {
                "ServerApp": {**PROXIED, **REMOTE_TLS},
                "Hardening": {"public_url": PUBLIC},
            }
        },
        "clean": {
            "public-on-loopback": {"ServerApp": PROXIED, "Hardening": {"public_url": PUBLIC}}
        },
    },
    "JH004": {
        "trigger": {
            "not-installed": {
                "ServerApp": {
                    "jpserver_extensions": {"jupyter_hardening": True, "voila_not_installed": True}
                }
            }
        },
        "clean": {
            "installed": {
                "ServerApp": {"jpserver_extensions": {"jupyter_hardening": True, "notebook": True}}
            },
            "not-installed-but-disabled": {
                "ServerApp": {
                    "jpserver_extensions": {"jupyter_hardening": True, "voila_not_installed": False}
                }
            },
        },
    },
    "JH005": {
        "trigger": {
            "legacy-token-not-a-string": {
                "ServerApp": {"jpserver_extensions": {"jupyter_hardening": True, "notebook": True}},
                "NotebookApp": {"token": ["not-a-string"]},
            }
        },
        "clean": {
            "legacy-token-a-string": {
                "ServerApp": {"jpserver_extensions": {"jupyter_hardening": True, "notebook": True}},
                "NotebookApp": {"token": STRONG_TOKEN},
            }
        },
    },
    "JH901": {
        "trigger": {
            "undecorated-handler-on-loopback": {"ServerApp": LEAKY},
            "undecorated-handler-remote": {"ServerApp": {**LEAKY, **REMOTE_TLS}},
            # a plain tornado handler: jupyter_server's prepare never runs
            "plain-handler-with-setting-off": {
                "ServerApp": {**LEAKY, "allow_unauthenticated_access": False},
                "LeakyExt": {"plain": True},
            },
        },
        "clean": {
            "setting-off": {"ServerApp": {**LEAKY, "allow_unauthenticated_access": False}},
            # jupyter_server's own public routes (login, static, /api, redirects) are left out
            "core-routes-only": {"ServerApp": {"ip": "0.0.0.0", **TLS}},
            # with no login at all, JH102 already says so
            "no-auth": {"ServerApp": LEAKY, "IdentityProvider": {"token": ""}},
        },
    },
    "JH902": {
        "trigger": {
            "advisory-for-installed-version": {"environ": {"JUPYTER_DATA_DIR": FUTURE_ADVISORY}},
        },
        "clean": {
            "shipped-snapshot-current-versions": {},
        },
    },
    "JH903": {
        "trigger": {
            "installed-snapshot-corrupt": {
                "environ": {"JUPYTER_DATA_DIR": "{data}/advisories-corrupt"}
            }
        },
        "clean": {
            "shipped-snapshot": {},
            "installed-snapshot-newer": {"environ": {"JUPYTER_DATA_DIR": FUTURE_ADVISORY}},
        },
    },
}

# JupyterHub user servers: "_hub" holds the JUPYTERHUB_* variables a spawner sets (the rest are
# filled in as `check --hub-user` does), and the real jupyterhub singleuser extension loads.
HUB_ALL_INTERFACES = {"JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/alice/"}
HUB_LOOPBACK = {"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:8888/user/alice/"}
HUB_CASES: dict[str, dict[str, dict[str, Config]]] = {
    "JH101": {
        "trigger": {"hub-all-interfaces-warning": {"_hub": HUB_ALL_INTERFACES}},
        "clean": {
            "hub-internal-ssl": {
                "_hub": {
                    "JUPYTERHUB_SERVICE_URL": "https://0.0.0.0:8888/user/alice/",
                    "JUPYTERHUB_SSL_CERTFILE": "{tls}/good.pem",
                    "JUPYTERHUB_SSL_KEYFILE": "{tls}/good.key",
                    "JUPYTERHUB_SSL_CLIENT_CA": "{tls}/good.pem",
                }
            }
        },
    },
    "JH701": {"clean": {"hub-forced-xheaders": {"_hub": HUB_ALL_INTERFACES}}},
    "JH801": {
        "trigger": {
            "other-identity-provider-on-the-command-line": {
                "_hub": HUB_LOOPBACK,
                "_argv": ["--ServerApp.identity_provider_class=tests.hub_provider.OtherProvider"],
            }
        },
        "clean": {"hub-oauth": {"_hub": HUB_LOOPBACK}},
    },
    "JH802": {
        "trigger": {
            "self-on-one-origin": {"_hub": HUB_LOOPBACK, "ServerApp": csp("frame-ancestors 'self'")}
        },
        "clean": {
            "hub-default-none": {"_hub": HUB_LOOPBACK},
            "self-with-subdomains": {
                "_hub": {
                    **HUB_LOOPBACK,
                    "JUPYTERHUB_PUBLIC_URL": "https://alice.hub.example.org/user/alice/",
                    "JUPYTERHUB_PUBLIC_HUB_URL": "https://hub.example.org/hub/",
                },
                "ServerApp": csp("frame-ancestors 'self'"),
            },
            "not-a-hub": {"ServerApp": csp("frame-ancestors 'self'")},
        },
    },
}
for _rule_id, _kinds in HUB_CASES.items():
    for _kind, _cases in _kinds.items():
        CASES.setdefault(_rule_id, {}).setdefault(_kind, {}).update(_cases)
