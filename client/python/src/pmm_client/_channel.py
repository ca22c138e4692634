"""The one place a channel is made and the one place per-call metadata is
chosen, so that TLS credentials, a bearer token (``authorization: Bearer
…``) and the ``pmm-mind`` header (which ledger a call addresses) each land
in one function when the server supports them."""
from __future__ import annotations

from typing import Any, Tuple

import grpc

from ._options import ConnectOptions

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
    ``http://`` scheme the Rust client and the ``pmm`` CLI use."""
    addr = address.strip()
    scheme, sep, rest = addr.partition("://")
    if not sep:
        return addr
    if scheme == "http":
        return rest.rstrip("/")
    if scheme == "https":
        raise ValueError(f"{address!r}: TLS is not supported yet (the server serves plaintext)")
    return addr  # a grpc target such as dns:///host:port or unix:///path


def create_channel(address: str, options: ConnectOptions) -> grpc.Channel:
    """A plaintext channel to ``address``. TLS (``grpc.secure_channel`` with
    ``grpc.ssl_channel_credentials``) will be chosen here from the options."""
    args: list[Tuple[str, Any]] = [
        ("grpc.max_send_message_length", options.max_message_bytes),
        ("grpc.max_receive_message_length", options.max_message_bytes),
        *_RECONNECT,
        *options.channel_options,
    ]
    return grpc.insecure_channel(target_of(address), options=args)


def call_metadata(options: ConnectOptions) -> Metadata:
    """The metadata sent with every call: none yet. The bearer token and the
    ``pmm-mind`` header will be added here."""
    return ()
