"""TLS, mutual TLS and tokens against the real server binary: round trips,
clean failures (a plaintext client, a client without the server's CA or
without a certificate, a missing or low-role token), and a token revoked
by rewriting the tokens file and sending SIGHUP. The certificates are made
here, for the test (``cryptography``, pinned in requirements.txt)."""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import shutil
import signal
import tempfile
import time
import unittest
from typing import Optional

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness import PmmServer
from pmm_client import CaughtUp, Client, ConnectOptions, Event, ImportMode, NewEvent, PmmError

READER = "pmm_python-reader-token-0123456789"
WRITER = "pmm_python-writer-token-0123456789"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class Pki:
    """A CA with a server certificate (127.0.0.1, ::1, localhost) and a
    client certificate, as PEM bytes and as files in ``dir``."""

    def __init__(self, dir: str, name: str = "pmm python test CA"):
        now = datetime.datetime.now(datetime.timezone.utc)
        self._validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))
        self._ca_key = _key()
        self._ca_name = _name(name)
        ca = (
            self._builder(self._ca_name, self._ca_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca = ca.public_bytes(serialization.Encoding.PEM)
        sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
        sans.append(x509.DNSName("localhost"))
        self.server_cert, self.server_key = self._leaf("pmm-server", sans, ExtendedKeyUsageOID.SERVER_AUTH)
        self.client_cert, self.client_key = self._leaf("python-client", [], ExtendedKeyUsageOID.CLIENT_AUTH)
        self.files = {}
        for field in ("ca", "server_cert", "server_key", "client_cert", "client_key"):
            path = os.path.join(dir, field + ".pem")
            with open(path, "wb") as f:
                f.write(getattr(self, field))
            self.files[field] = path

    def _builder(self, subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._validity[0])
            .not_valid_after(self._validity[1])
        )

    def _leaf(self, common_name: str, sans: list[x509.GeneralName], usage: x509.ObjectIdentifier) -> tuple[bytes, bytes]:
        key = _key()
        builder = self._builder(_name(common_name), key).add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def tokens_line(name: str, role: str, token: str) -> str:
    """A tokens-file line: the SHA-256 of the token, never the token."""
    return f"{name} {role} {hashlib.sha256(token.encode()).hexdigest()}\n"


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.mkdtemp(prefix="pmm-pytest-tls-")
        cls.pki = Pki(cls.dir)
        other = os.path.join(cls.dir, "other")
        os.mkdir(other)
        cls.stranger = Pki(other, "another CA")

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.dir, ignore_errors=True)

    def server(self, *args: str) -> PmmServer:
        server = PmmServer(args=args)
        server.start()
        self.addCleanup(self._stop, server)
        return server

    def _stop(self, server: PmmServer) -> None:
        self.assertEqual(server.stop(), 0, f"pmm-server did not stop cleanly:\n{server.log()}")

    def tls_args(self, mutual: bool = False) -> tuple[str, ...]:
        args = ("--tls-cert", self.pki.files["server_cert"], "--tls-key", self.pki.files["server_key"])
        return args + (("--tls-client-ca", self.pki.files["ca"]) if mutual else ())

    def client(self, address: str, options: ConnectOptions) -> Client:
        client = Client(address, options)
        self.addCleanup(client.close)
        return client

    def round_trip(self, client: Client) -> None:
        client.wait_until_serving(timeout=20)
        first = client.append("identity_adopt", "Echo")
        self.assertIn("Identity: Echo", client.get_context().text)
        with client.subscribe() as sub:
            item = sub.next(timeout=5)
            self.assertIsInstance(item, Event)
            assert isinstance(item, Event)
            self.assertEqual(item.id, first.id)

    def refused(self, client: Client) -> PmmError:
        with self.assertRaises(PmmError) as ctx:
            client.head()
        return ctx.exception

    def test_tls_round_trip(self) -> None:
        server = self.server(*self.tls_args())
        # The CA as a file path, and as PEM bytes.
        self.round_trip(self.client(f"https://{server.address}", ConnectOptions(ca=self.pki.files["ca"], timeout=10)))
        again = self.client(server.address or "", ConnectOptions(ca=self.pki.ca, timeout=10))
        self.assertEqual(again.head().last_id, 1)

    def test_mutual_tls_round_trip_and_refusals(self) -> None:
        server = self.server(*self.tls_args(mutual=True))
        address = f"https://{server.address}"
        files = self.pki.files
        self.round_trip(
            self.client(address, ConnectOptions(ca=files["ca"], cert=files["client_cert"], key=files["client_key"], timeout=10))
        )
        anonymous = self.client(address, ConnectOptions(ca=files["ca"], timeout=5))
        self.assertEqual(self.refused(anonymous).code, grpc.StatusCode.UNAVAILABLE)
        stranger = ConnectOptions(ca=files["ca"], cert=self.stranger.client_cert, key=self.stranger.client_key, timeout=5)
        self.assertEqual(self.refused(self.client(address, stranger)).code, grpc.StatusCode.UNAVAILABLE)

    def test_clean_failures_of_a_plaintext_client_and_of_the_wrong_ca(self) -> None:
        server = self.server(*self.tls_args())
        plaintext = self.client(server.address or "", ConnectOptions(timeout=5))
        self.assertEqual(self.refused(plaintext).code, grpc.StatusCode.UNAVAILABLE)
        wrong_ca = self.client(f"https://{server.address}", ConnectOptions(ca=self.stranger.ca, timeout=5))
        self.assertEqual(self.refused(wrong_ca).code, grpc.StatusCode.UNAVAILABLE)
        with self.assertRaises(PmmError) as ctx:
            Client.connect(f"https://{server.address}", ConnectOptions(ca=self.stranger.ca, connect_timeout=1.0))
        self.assertEqual(ctx.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_tokens_roles_and_a_revocation_by_sighup(self) -> None:
        tokens = os.path.join(self.dir, "tokens-%d" % os.getpid())
        with open(tokens, "w") as f:
            f.write("# python tests\n" + tokens_line("py-reader", "reader", READER) + tokens_line("py-writer", "writer", WRITER))
        server = self.server("--tokens", tokens, *self.tls_args())
        address = f"https://{server.address}"
        options = ConnectOptions(ca=self.pki.ca, timeout=10)
        writer = self.client(address, ConnectOptions(ca=self.pki.ca, timeout=10, token=WRITER))
        self.assertNotIn(WRITER, repr(writer.options), "repr never shows the token")
        writer.wait_until_serving(timeout=20)  # health needs no token
        writer.append("user", "with a token")

        err = self.refused(self.client(address, options))
        self.assertEqual((err.code, err.message), (grpc.StatusCode.UNAUTHENTICATED, "missing authorization: Bearer token"))
        err = self.refused(self.client(address, ConnectOptions(ca=self.pki.ca, timeout=10, token="pmm_nobody")))
        self.assertEqual((err.code, err.message), (grpc.StatusCode.UNAUTHENTICATED, "unknown token"))
        reader = self.client(address, ConnectOptions(ca=self.pki.ca, timeout=10, token=READER))
        with self.assertRaises(PmmError) as ctx:
            reader.append("user", "a reader may not")
        self.assertEqual(ctx.exception.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(ctx.exception.message, "this call needs role writer; token 'py-reader' has role reader")
        with self.assertRaises(PmmError) as ctx:
            writer.import_rows(list(reader.read_all()), ImportMode.VERIFY)
        self.assertEqual(ctx.exception.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(reader.head().last_id, 1, "nothing written")

        # Revoke the writer: rewrite the file, SIGHUP, and it is refused.
        with open(tokens, "w") as f:
            f.write(tokens_line("py-reader", "reader", READER))
        assert server.proc is not None
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        last: Optional[PmmError] = None
        while time.monotonic() < deadline:
            try:
                writer.head()
            except PmmError as err:
                last = err
                break
            time.sleep(0.05)
        self.assertIsNotNone(last, "the revoked token was still admitted 10 s after SIGHUP")
        assert last is not None
        self.assertEqual((last.code, last.message), (grpc.StatusCode.UNAUTHENTICATED, "unknown token"))
        self.assertEqual(reader.head().last_id, 1, "the reader stays")
        self.assertIsNone(server.proc.poll(), "SIGHUP reloads, it does not stop the server")
        with self.assertRaises(ValueError):
            self.client(address, ConnectOptions(ca=self.pki.ca, token="two words")).head()

    def test_subscribe_with_a_token(self) -> None:
        tokens = os.path.join(self.dir, "tokens-sub-%d" % os.getpid())
        with open(tokens, "w") as f:
            f.write(tokens_line("py-reader", "reader", READER))
        server = self.server("--tokens", tokens)
        reader = self.client(server.address or "", ConnectOptions(timeout=10, token=READER))
        reader.wait_until_serving(timeout=20)
        with reader.subscribe_resilient() as sub:
            self.assertIsInstance(sub.next(timeout=5), CaughtUp)


if __name__ == "__main__":
    unittest.main()
