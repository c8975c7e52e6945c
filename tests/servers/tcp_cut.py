"""Loopback plumbing for the mail-server tests: free ports, a test certificate authority, and
``TcpCut``, a TCP proxy that drops a connection after a number of bytes.

``TcpCut`` stands for the network failing in the middle of a sync: the client talks to the
real server through it, and once the server has sent ``cut_after`` more bytes down a
connection, both sides of that connection are closed abruptly (the client sees the stream end
in the middle of a response, exactly like a dropped link).

The certificate is a real chain: a self-signed CA and a server certificate for ``127.0.0.1``
and ``localhost`` that it signed. Clients do not trust it unless told to (``SSL_CERT_FILE``
naming the CA, or turning checks off), which is what a self-signed test server looks like.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it; a tiny race is accepted)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Certificate:
    ca: Path  # the CA certificate (PEM): what a client would have to trust
    cert: Path  # the server certificate followed by the CA (PEM chain)
    key: Path  # the server's private key (PEM, unencrypted)


def make_certificate(directory: Path) -> Certificate:
    """A CA and a server certificate for 127.0.0.1 / localhost, valid for a day."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xlcrm test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    found = Certificate(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    found.ca.write_bytes(ca_cert.public_bytes(pem))
    found.cert.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    found.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return found


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


class TcpCut:
    """A loopback proxy to ``(host, port)`` that can cut its connections mid-stream.

    ``cut(after=n)`` arms every open connection, and the ones opened later: once the server
    has sent ``n`` more bytes through it, the connection is closed on both sides.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._budget: int | None = None  # bytes the server may still send; None: unlimited
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self.cuts = 0  # connections cut so far
        self._thread = threading.Thread(target=self._accept, name="tcp-cut", daemon=True)
        self._thread.start()

    def cut(self, *, after: int) -> None:
        with self._lock:
            self._budget = after

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        try:
            while data := source.recv(4096):
                if downstream:
                    with self._lock:
                        if self._budget is not None:
                            if len(data) >= self._budget:
                                data, cut = data[: self._budget], True
                            else:
                                cut = False
                            self._budget -= len(data)
                        else:
                            cut = False
                    if data:
                        sink.sendall(data)
                    if cut:
                        self.cuts += 1
                        break
                else:
                    sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            _close(sock)

    def close(self) -> None:
        _close(self._listener)
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, server in pairs:
            _close(client)
            _close(server)

    def __enter__(self) -> TcpCut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
