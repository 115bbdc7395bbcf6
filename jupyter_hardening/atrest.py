"""Secrets at rest: how strong the cookie secret is, and who can read the files holding secrets.

Only facts leave this module (a length, an estimate in bits, a path and its mode); the secrets
themselves are read, compared and dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import locale
import math
import os
import re
import stat
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .record import Record
from .safefile import SECRET_LIMIT, read_bounded

# Config sections whose `token` replaces the default that reads JUPYTER_TOKEN_FILE.
TOKEN_SECTIONS = ("IdentityProvider", "PasswordIdentityProvider", "ServerApp", "NotebookApp")
# Config files are read whole by traitlets; one that holds the hash is rarely over a few KiB.
CONFIG_LIMIT = 1024 * 1024


# Records (record.py), not dataclasses or NamedTuples: this module is imported at every start.
class SecretFile(Record):
    """A file the server reads a secret from: which setting names it, where, and its mode."""

    setting: str
    path: str
    mode: int

    @property
    def group_or_world_readable(self) -> bool:
        """True when users other than the owner may read the file."""
        return bool(self.mode & (stat.S_IRGRP | stat.S_IROTH))


class CookieSecretFacts(Record):
    """Where the cookie secret comes from ('config', 'file' or ''), its length and strength."""

    source: str = ""
    length: int = 0
    bits: float = 256.0


def secret_strength(secret: bytes) -> float:
    """Estimated bits of a key: as a token when it is text, else from its distinct bytes."""
    from .snapshot import repeated_unit, step_bits, token_strength

    if not secret:
        return 0.0
    try:
        text = secret.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\r\n" for c in text):
        return token_strength(text)
    # Raw bytes (os.urandom in a config file): the frequency estimate tokens use undercounts a
    # short random sample, so count 8 bits a byte unless the bytes repeat.
    # A unit repeated, or steps that barely vary, are weak whatever the counts say.
    unit = repeated_unit(secret)
    structure = min(secret_strength(unit) if unit else math.inf, step_bits(secret))
    if len(set(secret)) * 2 >= len(secret):
        return min(8.0 * len(secret), structure)
    counts = Counter(secret)
    shannon = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return min(round(len(secret) * shannon, 1), structure)


def cookie_secret_file_in_use(serverapp: Any) -> bool:
    """True when jupyter_server derives the cookie secret from ServerApp.cookie_secret_file."""
    for section in ("ServerApp", "NotebookApp"):
        if "cookie_secret" in serverapp.config.get(section, {}):
            return False
    return bool(serverapp.cookie_secret_file)


def token_file_in_use(serverapp: Any) -> str:
    """JUPYTER_TOKEN_FILE when jupyter_server reads the token from it, else ''."""
    path = os.environ.get("JUPYTER_TOKEN_FILE", "")
    if not path or os.environ.get("JUPYTER_TOKEN"):
        return ""
    config = serverapp.config
    # A custom identity_provider_class takes its token from its own section (c.MyProvider.token).
    provider = getattr(serverapp, "identity_provider_class", None)
    sections = {*TOKEN_SECTIONS, *(cls.__name__ for cls in getattr(provider, "__mro__", ()))}
    if any("token" in config.get(section, {}) for section in sections):
        return ""
    return path


def read_token_file(path: str) -> str:
    """The token file as jupyter_server reads it (text in the locale's encoding), bounded."""
    return read_bounded(path, SECRET_LIMIT).decode(locale.getpreferredencoding(False))


def cookie_secret_facts(serverapp: Any, idp: Any, settings: Mapping[str, Any]) -> CookieSecretFacts:
    """Where the secret that signs login cookies comes from, and how strong it is.

    jupyter_server signs with ``ServerApp.cookie_secret`` as configured, or, by default, with
    HMAC-SHA256 keyed by the bytes of ``cookie_secret_file`` (over the password hashes):
    the key's strength is the file's. ``tornado_settings['cookie_secret']`` overrides both.
    """
    effective = settings.get("cookie_secret")
    if isinstance(effective, str):
        effective = effective.encode()
    if not isinstance(effective, bytes):
        return CookieSecretFacts()
    path = str(serverapp.cookie_secret_file or "")
    if cookie_secret_file_in_use(serverapp) and path:
        try:
            key = read_bounded(path, SECRET_LIMIT)
        except OSError:
            key = None
        if key is not None:
            h = hmac.new(key, digestmod=hashlib.sha256)
            h.update(str(getattr(serverapp, "password", "") or "").encode())
            if idp is not None:
                h = idp.cookie_secret_hook(h)
            if hmac.compare_digest(h.digest(), effective):
                return CookieSecretFacts("file", len(key), secret_strength(key))
    return CookieSecretFacts("config", len(effective), secret_strength(effective))


def _mode(path: str) -> int | None:
    try:
        return stat.S_IMODE(Path(path).stat().st_mode)
    except OSError:
        return None


# What may split or escape a hash in a config file without changing it: string pieces joined
# ("argon2:..." "..." or +), line breaks, JSON's "\/" for "/". No hash holds any of these.
# A pattern, not a compiled one: compiled on first use (a password is set), not at every start.
_SPELLING = rb"[\s'\"()+\\]"


def _spelled(data: bytes) -> bytes:
    """``data`` without the characters that may split or escape a hash (see _SPELLING)."""
    return re.sub(_SPELLING, b"", data)


def loaded_config_files(serverapp: Any) -> list[str]:
    """Every config file the server's settings were read from: the ServerApp's own and each
    extension app's. An extension app passes its files' ServerApp section on to the server
    (``jupyter_lab_config.json``; ``jupyter_notebook_config.json``, whose ``NotebookApp.password``
    notebook's app forwards, under plain ``jupyter server`` too)."""
    from .configfiles import extension_apps

    files = [str(path) for path in getattr(serverapp, "loaded_config_files", None) or []]
    for app in extension_apps(serverapp):
        for path in getattr(app, "loaded_config_files", None) or []:
            if str(path) not in files:
                files.append(str(path))
    return files


def secret_files(serverapp: Any, idp: Any, cookie_source: str) -> tuple[SecretFile, ...]:
    """The files this server read a secret from, with their modes."""
    found: list[tuple[str, str]] = []
    if cookie_source == "file":
        found.append(("ServerApp.cookie_secret_file", str(serverapp.cookie_secret_file)))
    token_file = token_file_in_use(serverapp)
    if token_file:
        found.append(("JUPYTER_TOKEN_FILE", token_file))
    hashed = str(getattr(idp, "hashed_password", "") or "")
    if hashed:
        # `jupyter server password` writes the hash into jupyter_server_config.json, mode 0600;
        # any config file the server loaded that spells the hash out holds it as well.
        needle = _spelled(hashed.encode())
        for path in loaded_config_files(serverapp):
            try:
                if needle in _spelled(read_bounded(path, CONFIG_LIMIT)):
                    found.append(("PasswordIdentityProvider.hashed_password", str(path)))
            except OSError:
                continue
    files = []
    for setting, path in found:
        mode = _mode(path)
        if mode is not None:
            files.append(SecretFile(setting, path, mode))
    return tuple(files)


def refresh_modes(files: tuple[SecretFile, ...]) -> tuple[SecretFile, ...]:
    """The same files with their current modes (a `chmod 600` shows without a restart)."""
    fresh = []
    for f in files:
        mode = _mode(f.path)
        fresh.append(f if mode is None else SecretFile(f.setting, f.path, mode))
    return tuple(fresh)


def preflight_problems(serverapp: Any) -> list[tuple[str, str]]:
    """(problem, fix) for a cookie_secret_file jupyter_server would hang on or read without end.

    jupyter_server opens it with ``open(...).read()`` while it builds its settings: a FIFO
    blocks forever, ``/dev/zero`` fills the memory. Checked at link time, before that read.
    """
    if not cookie_secret_file_in_use(serverapp):
        return []
    path = str(serverapp.cookie_secret_file)
    # os.path, as jupyter_server: False on any error, where Path.exists raises PermissionError.
    if not os.path.exists(path):  # noqa: PTH110 - jupyter_server then writes a new one
        return []
    try:
        read_bounded(path, SECRET_LIMIT)
    except OSError as e:
        return [
            (
                f"ServerApp.cookie_secret_file = {path!r} cannot be read ({e.strerror or e}): "
                "jupyter_server reads the cookie secret from it",
                "point c.ServerApp.cookie_secret_file at a regular file readable by the server's "
                "user, or delete the file (jupyter_server then writes a new secret there)",
            )
        ]
    return []
