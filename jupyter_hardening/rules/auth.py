"""JH2xx — tokens, passwords and request forgery protection (authentication)."""

from __future__ import annotations

from collections.abc import Iterator

from ..printable import shell_word
from ..record import replace
from ..snapshot import Snapshot
from .base import GENERATED_TOKEN, Finding, Rule, Severity, without_override

MIN_TOKEN_BITS = 80
# `jupyter server password` stores c.IdentityProvider.hashed_password in the user's
# jupyter_server_config.json, which PasswordIdentityProvider.hashed_password and the deprecated
# ServerApp/NotebookApp.password override: the old value goes first (provenance names it as the
# user wrote it, at its file and line).
FIX_PASSWORD = (
    "remove c.PasswordIdentityProvider.hashed_password where it is set, then run `jupyter server "
    "password` to store an argon2 hash (it writes jupyter_server_config.json, which a hash set "
    "elsewhere overrides)"
)
ARGON2 = {"password_kind": "argon2"}


class WeakToken(Rule):
    """A short or low-entropy token on a server other hosts can reach.

    Insecure::

        c.ServerApp.ip = '0.0.0.0'
        c.IdentityProvider.token = 'jupyter'

    A token is a password that is never rate-limited: short ones are guessed online.

    Fix::

        # delete the token line: jupyter_server then generates a 192-bit token; to choose one:
        python -c 'import secrets; print(secrets.token_hex(32))'
    """

    id = "JH201"
    name = "weak-token"
    severity = Severity.WARNING
    traits = ("IdentityProvider.token",)
    summary = f"Token weaker than {MIN_TOKEN_BITS} bits on a reachable server"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when a remote server's token estimates below the threshold."""
        if snap.hub is not None and snap.hub.hub_auth:
            return  # the token is the hub's API token for this server, not a login token
        if snap.remote and snap.has_token and snap.token_bits < MIN_TOKEN_BITS:
            yield self.finding(
                f"The token has {snap.token_length} characters (about {snap.token_bits:.0f} bits, "
                f"under {MIN_TOKEN_BITS}) and the server is reachable from other hosts: it can "
                "be guessed.",
                "remove c.IdentityProvider.token (and JUPYTER_TOKEN) so jupyter_server generates "
                "a 192-bit token, or use `python -c 'import secrets; print(secrets.token_hex(32))'`",
                remedy=GENERATED_TOKEN,
            )


class TokenWhitespace(Rule):
    """A token that starts or ends with whitespace, usually the newline of a token file.

    Broken::

        $ echo "$TOKEN" > /run/secrets/jupyter-token   # echo adds a newline
        $ JUPYTER_TOKEN_FILE=/run/secrets/jupyter-token jupyter lab

    jupyter_server reads JUPYTER_TOKEN_FILE as it is and compares tokens exactly: the token
    everyone copies, without the newline, is refused (403) and token login never works.

    Fix::

        $ printf '%s' "$TOKEN" > /run/secrets/jupyter-token   # no newline
    """

    id = "JH206"
    name = "token-whitespace"
    severity = Severity.WARNING
    traits = ("IdentityProvider.token",)
    summary = "Token starts or ends with whitespace (a token file's newline): it never matches"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the token has leading or trailing whitespace."""
        if snap.token_padded and not (snap.hub is not None and snap.hub.hub_auth):
            yield self.finding(
                "The token starts or ends with whitespace (typically the newline `echo` writes "
                "into JUPYTER_TOKEN_FILE): jupyter_server compares tokens exactly, so the token "
                "as people copy it is refused and token login never works.",
                "write the token file without a newline (printf '%s' \"$TOKEN\" > FILE), or "
                "strip the value of c.IdentityProvider.token / JUPYTER_TOKEN",
                remedy={"token_padded": False},
            )


class PasswordNotHashed(Rule):
    """``hashed_password`` holds something that is not a hash jupyter_server can verify.

    Insecure::

        c.PasswordIdentityProvider.hashed_password = 'my secret'

    jupyter_server then disables the token and no password can ever match: nobody can log in,
    and the secret sits in plain text in the config file.

    Fix: remove the line, then::

        jupyter server password      # stores an argon2 hash in jupyter_server_config.json
    """

    id = "JH202"
    name = "password-not-hashed"
    severity = Severity.ERROR
    traits = ("PasswordIdentityProvider.hashed_password",)
    summary = "hashed_password is plain text or not a valid hash"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on a plaintext or malformed hashed_password."""
        if snap.password_kind == "plaintext":
            yield self.finding(
                "PasswordIdentityProvider.hashed_password holds plain text, not a hash: password "
                "login is impossible and the password sits readable in the config.",
                FIX_PASSWORD,
                remedy=ARGON2,
            )
        elif snap.password_kind == "invalid":
            yield self.finding(
                "PasswordIdentityProvider.hashed_password is not in a format jupyter_server can "
                "verify (expected 'argon2:$argon2id$...'): password login is impossible.",
                FIX_PASSWORD,
                remedy=ARGON2,
            )


class WeakPasswordHash(Rule):
    """A password hashed with sha1, md5 or another fast, salted digest.

    Insecure (every recipe in the seeds)::

        c.NotebookApp.password = 'sha1:67c9e60bb8b6:9ffede0825894254b2e042ea597d771089e11aed'

    A leaked config file is cracked in seconds on a GPU. argon2 is the default since notebook 6.

    Fix: remove the line (the hash it sets would override the new one), then::

        jupyter server password      # stores an argon2 hash in jupyter_server_config.json
    """

    id = "JH203"
    name = "weak-password-hash"
    severity = Severity.WARNING
    traits = ("PasswordIdentityProvider.hashed_password",)
    summary = "Password hash is not argon2"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on any valid hash algorithm other than argon2."""
        if snap.password_kind and snap.password_kind not in ("argon2", "plaintext", "invalid"):
            yield self.finding(
                f"The password is hashed with {snap.password_kind}, which GPUs crack fast.",
                FIX_PASSWORD,
                remedy=ARGON2,
            )


class DeprecatedPasswordName(Rule):
    """The password is set through a deprecated name.

    Insecure::

        c.ServerApp.password = 'argon2:...'    # or c.NotebookApp.password

    It still works, but it is forwarded with a warning and is the name old recipes copy.

    Fix::

        c.PasswordIdentityProvider.hashed_password = 'argon2:...'   # the same hash, current name
    """

    id = "JH204"
    name = "deprecated-password-name"
    severity = Severity.INFO
    traits = ("ServerApp.password", "PasswordIdentityProvider.hashed_password")
    summary = "Password set with ServerApp.password or NotebookApp.password"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the config sets ServerApp.password or NotebookApp.password."""
        if snap.password_deprecated_name:
            yield self.finding(
                f"The password is set with the deprecated c.{snap.password_deprecated_name}.",
                "rename it to c.PasswordIdentityProvider.hashed_password",
                # The deprecated name alone: provenance would rewrite the current name in the
                # fix into the one the user wrote.
                traits=(snap.password_deprecated_name,),
                remedy={"password_deprecated_name": ""},
            )


class XSRFDisabled(Rule):
    """Cross-site request forgery protection switched off.

    Insecure::

        c.ServerApp.disable_check_xsrf = True

    Any web page the user visits can then POST to the API with the user's cookie: create a
    terminal, write files, start kernels.

    Fix::

        c.ServerApp.disable_check_xsrf = False      # the default: delete the line
    """

    id = "JH205"
    name = "xsrf-disabled"
    severity = Severity.ERROR
    traits = ("ServerApp.disable_check_xsrf",)
    summary = "XSRF check disabled"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when disable_check_xsrf is on and cookies can authenticate."""
        if snap.disable_check_xsrf and snap.auth_enabled:
            yield self.finding(
                f"{snap.setting_name('disable_check_xsrf')} = True: any web page you visit can "
                "drive the API with your login cookie.",
                snap.override_fix("disable_check_xsrf")
                + "c.ServerApp.disable_check_xsrf = False (API clients send the token header "
                "and need no XSRF cookie)",
                remedy={
                    "disable_check_xsrf": False,
                    "tornado_overrides": without_override(snap, "disable_check_xsrf"),
                },
            )


MIN_COOKIE_SECRET_BITS = MIN_TOKEN_BITS


class WeakCookieSecret(Rule):
    """The key that signs login cookies can be guessed: whoever guesses it logs in as you.

    Insecure::

        c.ServerApp.cookie_secret = b'secret'

    jupyter_server signs the login cookie with tornado's ``create_signed_value`` and this key.
    Anyone who guesses it forges a cookie that ``/api/me`` (and every other handler) accepts,
    without the password or the token. By default jupyter_server keys it with 32 random bytes
    from ``cookie_secret_file``; a key written by hand into the config or that file is rarely
    as strong. See docs/secrets.md.

    Fix::

        # delete the c.ServerApp.cookie_secret line (and any 'cookie_secret' key in
        # c.ServerApp.tornado_settings): jupyter_server then keys the cookies with 32 random
        # bytes it writes to cookie_secret_file, mode 0600
    """

    id = "JH207"
    name = "weak-cookie-secret"
    severity = Severity.ERROR
    traits = ("ServerApp.cookie_secret", "ServerApp.cookie_secret_file")
    summary = (
        f"Cookie secret weaker than {MIN_COOKIE_SECRET_BITS} bits: login cookies can be forged"
    )

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when login is required and the signing key estimates below the threshold."""
        if not snap.auth_enabled or snap.cookie_secret_bits >= MIN_COOKIE_SECRET_BITS:
            return
        what = (
            "ServerApp.cookie_secret_file holds"
            if snap.cookie_secret_source == "file"
            else "The cookie secret (ServerApp.cookie_secret) is"
        )
        fix = (
            "delete the file (jupyter_server writes 32 random bytes there at the next start)"
            if snap.cookie_secret_source == "file"
            else "remove c.ServerApp.cookie_secret (and any 'cookie_secret' in "
            "c.ServerApp.tornado_settings): jupyter_server then uses 32 random bytes from "
            "cookie_secret_file"
        )
        yield self.finding(
            f"{what} {snap.cookie_secret_length} bytes (about {snap.cookie_secret_bits:.0f} bits, "
            f"under {MIN_COOKIE_SECRET_BITS}): whoever guesses it can forge a login cookie and "
            "use the server without the password or token.",
            fix,
            traits=("ServerApp.cookie_secret_file",)
            if snap.cookie_secret_source == "file"
            else ("ServerApp.cookie_secret",),
            # Either way jupyter_server then signs with 32 random bytes from the file.
            remedy={
                "cookie_secret_source": "file",
                "cookie_secret_length": 32,
                "cookie_secret_bits": 256.0,
            },
        )


class SecretFileReadable(Rule):
    """A file holding a secret of the server is readable by group or others.

    Insecure::

        -rw-r--r-- ~/.local/share/jupyter/runtime/jupyter_cookie_secret
        -rw-r--r-- /run/secrets/jupyter-token        # JUPYTER_TOKEN_FILE
        -rw-r--r-- ~/.jupyter/jupyter_server_config.json   # holds hashed_password

    Another local user who reads the cookie secret forges login cookies, one who reads the token
    logs in, and one who reads the password hash cracks it offline. jupyter_server writes these
    files with mode 0600; a copy or an `echo > FILE` under a 022 umask makes them 0644.

    Fix::

        $ chmod 600 ~/.local/share/jupyter/runtime/jupyter_cookie_secret
    """

    id = "JH208"
    name = "secret-file-readable"
    severity = Severity.WARNING
    # JUPYTER_TOKEN_FILE is no trait: it is where IdentityProvider.token's default comes from.
    traits = (
        "ServerApp.cookie_secret_file",
        "IdentityProvider.token",
        "PasswordIdentityProvider.hashed_password",
    )
    summary = "Cookie secret, token file or password hash readable by group or others"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire for each secret file whose mode grants read to group or others."""
        for f in snap.secret_files:
            if f.group_or_world_readable:
                holds, then = {
                    "ServerApp.cookie_secret_file": ("the cookie secret", "forge a login cookie"),
                    "JUPYTER_TOKEN_FILE": ("the token", "log in with it"),
                }.get(f.setting, ("the password hash", "crack it offline"))
                yield self.finding(
                    f"{f.path!r} ({f.setting}) holds {holds} and has mode {f.mode:04o}: other "
                    f"local users can read it and {then}.",
                    f"chmod 600 {shell_word(f.path)}",
                    traits=(f.setting if "." in f.setting else "IdentityProvider.token",),
                    remedy={
                        "secret_files": tuple(
                            replace(other, mode=0o600) if other == f else other
                            for other in snap.secret_files
                        )
                    },
                )
