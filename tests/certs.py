"""Certificates and keys made by the tests with cryptography: a CA and the ways TLS goes wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write_key(path: Path, key: Key, mode: int = 0o600) -> Path:
    """Write an unencrypted PEM private key with the given mode."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(mode)
    return path


def write_cert(path: Path, cert: x509.Certificate) -> Path:
    """Write a PEM certificate."""
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def make_cert(
    key: Key,
    cn: str,
    *,
    issuer_key: Key | None = None,
    issuer_cn: str | None = None,
    days: float = 90,
    not_before_days: float = 1,
    ca: bool = False,
    san: tuple[str, ...] = (),
) -> x509.Certificate:
    """A certificate for ``key``, self-signed unless an issuer is given."""
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(issuer_cn or cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=not_before_days))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


class TLSFiles:
    """A folder of certificate/key pairs, one per situation the TLS rules judge."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = make_cert(self.ca_key, "jupyter_hardening test CA", days=3650, ca=True)
        self.ca = write_cert(root / "ca.pem", self.ca_cert)

    def pair(
        self,
        name: str,
        *,
        key: Key | None = None,
        days: float = 90,
        self_signed: bool = False,
        key_mode: int = 0o600,
        cn: str = "jupyter.example.com",
    ) -> tuple[Path, Path]:
        """Write ``name``.pem and ``name``.key; signed by the CA unless self_signed."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        issuer = (
            {}
            if self_signed
            else {"issuer_key": self.ca_key, "issuer_cn": "jupyter_hardening test CA"}
        )
        not_before = 30 if days < 0 else 1
        cert = make_cert(key, cn, days=days, not_before_days=not_before, san=(cn,), **issuer)
        return write_cert(self.root / f"{name}.pem", cert), write_key(
            self.root / f"{name}.key", key, key_mode
        )
