"""The one certificate factory of the tests (cryptography): CAs, server certificates, and the
ways TLS goes wrong. nginx_util.make_ca and endpoint_support.write_tls build on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
CA_NAME = "jupyter_hardening test CA"


def name(cn: str, unit: str = "") -> x509.Name:
    """A subject or issuer name; ``unit`` (an OU) makes it distinct from others with the same CN."""
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit[:64]))
    return x509.Name(parts)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key, fast to make."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: Key) -> bytes:
    """An unencrypted PKCS#8 PEM private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(*certs: x509.Certificate) -> bytes:
    """PEM certificates, concatenated in order (a chain: leaf first)."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def write_key(path: Path, key: Key, mode: int = 0o600) -> Path:
    """Write an unencrypted PEM private key with the given mode."""
    path.write_bytes(key_pem(key))
    path.chmod(mode)
    return path


def write_cert(path: Path, *certs: x509.Certificate) -> Path:
    """Write PEM certificates (one, or a chain leaf first)."""
    path.write_bytes(cert_pem(*certs))
    return path


def make_cert(
    key: Key,
    cn: str | x509.Name,
    *,
    issuer_key: Key | None = None,
    issuer_cn: str | x509.Name | None = None,
    days: float = 90,
    not_before_days: float = 1,
    ca: bool = False,
    san: tuple[str, ...] = (),
    server: bool = False,
) -> x509.Certificate:
    """A certificate for ``key``, self-signed unless an issuer is given.

    A CA gets the key usages OpenSSL's strict chain checks want, every certificate a subject
    key identifier and an issued one the authority key identifier; ``server`` adds serverAuth.
    """
    subject = name(cn) if isinstance(cn, str) else cn
    issuer = name(issuer_cn) if isinstance(issuer_cn, str) else (issuer_cn or subject)
    signer = issuer_key or key
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=not_before_days))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if issuer_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False
        )
    if server:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


class TLSFiles:
    """A folder of certificate/key pairs, one per situation the TLS rules judge."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca_key = new_key()
        self.ca_cert = make_cert(self.ca_key, CA_NAME, days=3650, ca=True)
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
        key = key or new_key()
        issuer = {} if self_signed else {"issuer_key": self.ca_key, "issuer_cn": CA_NAME}
        not_before = 30 if days < 0 else 1
        cert = make_cert(key, cn, days=days, not_before_days=not_before, san=(cn,), **issuer)
        return write_cert(self.root / f"{name}.pem", cert), write_key(
            self.root / f"{name}.key", key, key_mode
        )
