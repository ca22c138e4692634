"""The one place a channel is made (plaintext, or TLS with a CA and, for
mutual TLS, a client certificate) and the one place per-call metadata is
chosen (the bearer token, ``authorization: Bearer …``; the ``pmm-mind``
header will go here too)."""
from __future__ import annotations

import os
from typing import Any, Optional, Tuple

import grpc

from ._options import ConnectOptions, Pem

__all__ = ["DEFAULT_ADDRESS", "Metadata", "call_metadata", "create_channel", "target_of"]

#: The server's default listen address.
DEFAULT_ADDRESS = "127.0.0.1:50051"

#: gRPC call metadata: (key, value) pairs.
Metadata = Tuple[Tuple[str, str], ...]

# grpc core waits 1 s, then up to 120 s between attempts to reconnect a
# channel whose connection failed; a subscription resuming after a server
# restart would wait that long. Bounded like the subscription's own backoff.
_RECONNECT = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5000),
)


def target_of(address: str) -> str:
    """The grpc target of an address: ``host:port``, also accepted with the
    ``http://`` or ``https://`` scheme the Rust client and the ``pmm`` CLI
    use."""
    addr = address.strip()
    scheme, sep, rest = addr.partition("://")
    if not sep:
        return addr
    if scheme in ("http", "https"):
        return rest.rstrip("/")
    return addr  # a grpc target such as dns:///host:port or unix:///path


def uses_tls(address: str, options: ConnectOptions) -> bool:
    """TLS for an ``https://`` address or any TLS option; an ``http://``
    address with TLS options is a mistake (ValueError)."""
    scheme = address.strip().partition("://")[0] if "://" in address else ""
    if scheme == "http" and options.tls:
        raise ValueError(f"{address!r}: TLS options were given for a plaintext (http://) address; use https://")
    return scheme == "https" or options.tls


def _pem(value: Optional[Pem], what: str) -> Optional[bytes]:
    """PEM bytes given as such, or read from a file path."""
    if value is None or isinstance(value, bytes):
        return value
    try:
        with open(os.fspath(value), "rb") as f:
            return f.read()
    except OSError as err:
        raise ValueError(f"TLS {what} {os.fspath(value)}: {err.strerror or err}") from None


def credentials(options: ConnectOptions) -> grpc.ChannelCredentials:
    """TLS credentials: the CA (default: grpc's roots) and, for mutual TLS,
    the client certificate with its key."""
    if (options.cert is None) != (options.key is None):
        raise ValueError("TLS client certificate: give both cert and key")
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(options.ca, "CA"),
        private_key=_pem(options.key, "private key"),
        certificate_chain=_pem(options.cert, "certificate"),
    )


def create_channel(address: str, options: ConnectOptions) -> grpc.Channel:
    """A channel to ``address``: TLS when :func:`uses_tls`, else plaintext."""
    args: list[Tuple[str, Any]] = [
        ("grpc.max_send_message_length", options.max_message_bytes),
        ("grpc.max_receive_message_length", options.max_message_bytes),
        *_RECONNECT,
    ]
    if options.tls_server_name is not None:
        args.append(("grpc.ssl_target_name_override", options.tls_server_name))
    args.extend(options.channel_options)
    target = target_of(address)
    if uses_tls(address, options):
        return grpc.secure_channel(target, credentials(options), options=args)
    return grpc.insecure_channel(target, options=args)


def call_metadata(options: ConnectOptions) -> Metadata:
    """The metadata sent with every call: the bearer token, if any."""
    if options.token is None:
        return ()
    token = options.token.strip()
    if not token or any(c.isspace() for c in token):
        raise ValueError("token: empty or contains spaces")
    return (("authorization", f"Bearer {token}"),)
