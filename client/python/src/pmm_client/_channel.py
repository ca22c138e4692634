"""The one place a channel is made (plaintext, or TLS with a CA and, for
mutual TLS, a client certificate) and the one place per-call metadata is
chosen (the bearer token, ``authorization: Bearer …``, and the mind a call
addresses, ``pmm-mind: NAME``)."""
from __future__ import annotations

import os
from typing import Any, Optional, Tuple

import grpc

from ._options import ConnectOptions, Pem

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_MIND",
    "MIND_HEADER",
    "Metadata",
    "call_metadata",
    "check_mind_name",
    "create_channel",
    "target_of",
]

#: The server's default listen address.
DEFAULT_ADDRESS = "127.0.0.1:50051"

#: The metadata header naming the mind a call addresses.
MIND_HEADER = "pmm-mind"

#: The mind of a call without the header.
DEFAULT_MIND = "default"

#: Longest mind name, in characters.
MAX_MIND_NAME = 64

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


def check_mind_name(name: str) -> str:
    """``name`` if it is a mind name of the allowed set (1 to 64 characters
    of a-z, 0-9, '.', '_' and '-', starting with a letter or a digit: the
    server's ``pmm::mind::check_mind_name``); else ValueError saying why,
    e.g. ``mind name 'Alice': must start with a-z or 0-9``."""
    if not isinstance(name, str):
        raise TypeError(f"mind name: expected a str, not {type(name).__name__}")

    def refuse(why: str) -> ValueError:
        return ValueError(f"mind name {name!r}: {why}")

    if not name:
        raise refuse("is empty")
    size = len(name.encode("utf-8"))
    if size > MAX_MIND_NAME:
        raise refuse(f"is {size} bytes long, above the maximum of {MAX_MIND_NAME}")
    if not _mind_start(name[0]):
        raise refuse("must start with a-z or 0-9")
    for c in name:
        if not (_mind_start(c) or c in "._-"):
            raise refuse(f"has {c!r}; a name is a-z, 0-9, '.', '_' and '-' only")
    return name


def _mind_start(c: str) -> bool:
    return ("a" <= c <= "z") or ("0" <= c <= "9")


def call_metadata(options: ConnectOptions, mind: Optional[str] = None) -> Metadata:
    """The metadata sent with every call: the bearer token, if any, and
    ``pmm-mind: NAME`` for ``mind`` (else ``options.mind``), if any (checked
    by :func:`check_mind_name`)."""
    metadata: list[Tuple[str, str]] = []
    if options.token is not None:
        token = options.token.strip()
        if not token or any(c.isspace() for c in token):
            raise ValueError("token: empty or contains spaces")
        metadata.append(("authorization", f"Bearer {token}"))
    name = mind if mind is not None else options.mind
    if name is not None:
        metadata.append((MIND_HEADER, check_mind_name(name)))
    return tuple(metadata)
