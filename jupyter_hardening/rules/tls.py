"""JH4xx — the server's own certificate, key and client CA (TLS).

These rules read facts gathered by :func:`jupyter_hardening.snapshot.inspect_tls`; they are
re-evaluated by the status endpoint, so a certificate nearing expiry shows without a restart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ..printable import shell_word
from ..record import replace
from ..snapshot import FileFacts, Snapshot, TLSFacts
from .base import Finding, Rule, Severity

EXPIRY_WARNING_DAYS = 14
MIN_RSA_BITS = 2048
LETSENCRYPT = "/etc/letsencrypt/live/<domain>/"


def _issued(snap: Snapshot, days: int = 90, **facts: Any) -> TLSFacts:
    """The TLS facts of a fresh certificate and key (certbot's defaults unless told)."""
    return replace(
        snap.tls,
        **{
            "cert_error": None,
            "key_error": None,
            "not_after": snap.taken_at + dt.timedelta(days=days),
            "self_signed": False,
            "key_matches": True,
            "key_type": "EC secp256r1",
            "key_bits": 256,
            **facts,
        },
    )


def _letsencrypt(snap: Snapshot) -> dict[str, Any]:
    """Snapshot fields once certfile/keyfile point at certbot's files."""
    cert, key = LETSENCRYPT + "fullchain.pem", LETSENCRYPT + "privkey.pem"
    return {
        "certfile": cert,
        "keyfile": key,
        "tls": _issued(
            snap,
            certfile=FileFacts(cert, readable=True, mode=0o644),
            keyfile=FileFacts(key, readable=True, mode=0o600),
        ),
    }


def _file_problem(label: str, ff: FileFacts | None) -> str:
    if ff is None or ff.readable:
        return ""
    return f"{label} {ff.path!r} {ff.error}"


class TLSFileUnusable(Rule):
    """Certificate or key file missing, unreadable, or not PEM.

    Insecure::

        c.ServerApp.certfile = '/absolute/path/to/your/certificate/mycert.pem'   # copied verbatim

    jupyter_server fails with a traceback when the first TLS connection arrives, or at start.

    Fix::

        c.ServerApp.certfile = '/etc/letsencrypt/live/jupyter.example.com/fullchain.pem'
        c.ServerApp.keyfile = '/etc/letsencrypt/live/jupyter.example.com/privkey.pem'
    """

    id = "JH401"
    name = "tls-file-unusable"
    severity = Severity.ERROR
    traits = ("ServerApp.certfile", "ServerApp.keyfile")
    summary = "Certificate or key missing, unreadable or not PEM"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire for each configured TLS file that cannot be used."""
        if not snap.certfile:
            if snap.keyfile:
                yield self.finding(
                    "ServerApp.keyfile is set but ServerApp.certfile is not: TLS is off.",
                    "set c.ServerApp.certfile to the certificate that goes with the key",
                    remedy=_letsencrypt(snap),
                )
            return
        tls = snap.tls
        problems = [
            _file_problem("ServerApp.certfile", tls.certfile),
            _file_problem(
                "ServerApp.keyfile" if snap.keyfile else "The key (in certfile)", tls.keyfile
            ),
        ]
        if tls.cert_error:
            problems.append(f"ServerApp.certfile {snap.certfile!r} {tls.cert_error}")
        if tls.key_error:
            problems.append(f"the private key {tls.key_error}")
        for problem in filter(None, problems):
            yield self.finding(
                problem[0].upper() + problem[1:] + ": the server cannot serve TLS.",
                "point c.ServerApp.certfile/keyfile at existing PEM files readable by the server's "
                "user (e.g. /etc/letsencrypt/live/<domain>/fullchain.pem and privkey.pem)",
                remedy=_letsencrypt(snap),
            )


class KeyPermissions(Rule):
    """Private key readable by group or others.

    Insecure::

        -rw-r--r-- mykey.key

    Every local user can copy the key and impersonate the server.

    Fix::

        chmod 600 mykey.key
    """

    id = "JH402"
    name = "key-permissions"
    severity = Severity.WARNING
    traits = ("ServerApp.keyfile",)
    summary = "Private key readable by group or others"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the key file's mode grants read to group or others."""
        key = snap.tls.keyfile
        # Only a file that holds a usable key: a certfile without one has nothing to protect.
        if (
            snap.certfile
            and key is not None
            and key.readable
            and snap.tls.key_error is None
            and key.group_or_world_readable
        ):
            yield self.finding(
                f"The private key {key.path!r} has mode {key.mode:04o}: other local users can read it.",
                f"chmod 600 {shell_word(key.path)}",
                remedy={"tls": replace(snap.tls, keyfile=replace(key, mode=0o600))},
            )


class CertificateExpiry(Rule):
    """Certificate expired, or expiring within 14 days.

    Browsers refuse an expired certificate; users learn to click through warnings.

    Insecure::

        $ openssl x509 -noout -enddate -in /etc/letsencrypt/live/jupyter.example.com/fullchain.pem
        notAfter=Nov 30 12:00:00 2026 GMT          # already past

    Fix::

        certbot renew      # in place: jupyter_server reads certfile for each new connection
    """

    id = "JH403"
    name = "certificate-expiry"
    severity = Severity.ERROR
    traits = ("ServerApp.certfile",)
    summary = f"Certificate expired (error) or expiring within {EXPIRY_WARNING_DAYS} days (warning)"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Compare notAfter with the snapshot's time."""
        not_after = snap.tls.not_after
        if not snap.certfile or not_after is None:
            return
        left = not_after - snap.taken_at
        when = not_after.strftime("%Y-%m-%d %H:%M UTC")
        fix = "renew the certificate in place (certbot renew): jupyter_server reads certfile for each new connection, no restart needed"
        renewed = {"tls": replace(snap.tls, not_after=snap.taken_at + dt.timedelta(90))}
        if left <= dt.timedelta(0):
            yield self.finding(f"The certificate expired on {when}.", fix, remedy=renewed)
        elif left <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
            yield self.finding(
                f"The certificate expires on {when}, in {left.days} days.",
                fix,
                severity=Severity.WARNING,
                remedy=renewed,
            )


class KeyMismatch(Rule):
    """Certificate and private key are not a pair.

    Happens when a key is regenerated but the old certificate kept: every handshake fails.

    Insecure::

        c.ServerApp.certfile = '/etc/jupyter/cert.pem'   # issued for the old key
        c.ServerApp.keyfile = '/etc/jupyter/new.key'

    Fix::

        c.ServerApp.certfile = '/etc/letsencrypt/live/jupyter.example.com/fullchain.pem'
        c.ServerApp.keyfile = '/etc/letsencrypt/live/jupyter.example.com/privkey.pem'   # its pair
    """

    id = "JH404"
    name = "key-mismatch"
    severity = Severity.ERROR
    traits = ("ServerApp.certfile", "ServerApp.keyfile")
    summary = "Certificate and key do not match"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the public keys differ."""
        if snap.certfile and snap.tls.key_matches is False:
            yield self.finding(
                "ServerApp.certfile and ServerApp.keyfile are not a pair: TLS handshakes fail.",
                "use the key the certificate was issued for (fullchain.pem goes with privkey.pem)",
                remedy={"tls": replace(snap.tls, key_matches=True)},
            )


class WeakKey(Rule):
    """RSA key shorter than 2048 bits (Mozilla's minimum).

    Insecure::

        openssl req -x509 -newkey rsa:1024 -nodes -keyout key.pem -out cert.pem -days 365

    Fix::

        openssl req -x509 -newkey rsa:3072 -nodes -keyout key.pem -out cert.pem -days 365
    """

    id = "JH405"
    name = "weak-key"
    severity = Severity.ERROR
    traits = ("ServerApp.keyfile",)
    summary = f"RSA key under {MIN_RSA_BITS} bits"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on short RSA keys."""
        tls = snap.tls
        if snap.certfile and tls.key_type == "RSA" and (tls.key_bits or 0) < MIN_RSA_BITS:
            yield self.finding(
                f"The RSA key has {tls.key_bits} bits; {MIN_RSA_BITS} is the minimum browsers and "
                "Mozilla accept.",
                "openssl req -x509 -newkey rsa:3072 -nodes -keyout key.pem -out cert.pem -days 365 "
                "(or use Let's Encrypt)",
                # openssl req -x509 makes a new, self-signed pair (JH406, an info)
                remedy={
                    "tls": _issued(snap, days=365, key_type="RSA", key_bits=3072, self_signed=True)
                },
            )


class SelfSigned(Rule):
    """Self-signed certificate: users must click through a warning, and learn to.

    Insecure::

        openssl req -x509 -newkey rsa:3072 -nodes -keyout key.pem -out cert.pem -subj /CN=jupyter
        c.ServerApp.certfile = 'cert.pem'

    Fix::

        # a certificate from Let's Encrypt on a TLS proxy in front:
        jupyter hardening nginx-snippet --letsencrypt jupyter.example.com
    """

    id = "JH406"
    name = "self-signed"
    severity = Severity.INFO
    traits = ("ServerApp.certfile",)
    summary = "Self-signed certificate"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when issuer equals subject."""
        if snap.certfile and snap.tls.self_signed:
            yield self.finding(
                "The certificate is self-signed: browsers warn, and users learn to click through.",
                "use a certificate from Let's Encrypt on a TLS proxy: jupyter hardening "
                "nginx-snippet --letsencrypt <domain>",
                remedy={"tls": replace(snap.tls, self_signed=False)},
            )


class ClientCAUnusable(Rule):
    """``client_ca`` set to a file that is missing or unreadable.

    Insecure::

        c.ServerApp.client_ca = '/etc/jupyter/client-ca.pem'   # not there, or not readable

    Fix::

        # the PEM bundle of the CA that signs client certificates, readable by the server's user
        install -m 644 client-ca.pem /etc/jupyter/client-ca.pem    # or remove client_ca
    """

    id = "JH407"
    name = "client-ca-unusable"
    severity = Severity.ERROR
    traits = ("ServerApp.client_ca",)
    summary = "client_ca missing or unreadable"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the client CA file cannot be read."""
        ca = snap.tls.client_ca
        if snap.client_ca and ca is not None and not ca.readable:
            yield self.finding(
                f"ServerApp.client_ca {ca.path!r} {ca.error}: client certificates cannot be "
                "verified and TLS setup fails.",
                "point c.ServerApp.client_ca at a readable PEM bundle of the CA that signs "
                "client certificates, or remove it",
                remedy={"client_ca": "", "tls": replace(snap.tls, client_ca=None)},
            )
