"""A throwaway CA and a server certificate for 127.0.0.1 signed by it: what the local MariaDB servers present, for the
tests and for `make e2e` alike."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TlsMaterial:
    ca_pem: bytes
    server_cert: Path
    server_key: Path


def make_loopback_tls(directory: Path, ca_name: str) -> TlsMaterial:
    """Writes server.crt and server.key into `directory`; the CA's certificate is returned, its key forgotten."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
                    extensions: list[tuple[Any, bool]]) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1)))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(ca_key, hashes.SHA256())

    ca = certificate(ca_name, ca_key, None,
                     [(x509.BasicConstraints(ca=True, path_length=None), True),
                      (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), True)])
    server = certificate("127.0.0.1", server_key, ca.subject,
                         [(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
                          (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)])
    directory.mkdir(parents=True, exist_ok=True)
    server_cert, server_key_path = directory / "server.crt", directory / "server.key"
    server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    server_key_path.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return TlsMaterial(ca.public_bytes(serialization.Encoding.PEM), server_cert, server_key_path)
