"""What to connect to and what to ask for: request parameters whose defaults
are the server's when left unset."""
from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple, Union

from .v1 import ledger_pb2, mind_pb2

__all__ = [
    "ConnectOptions",
    "Pem",
    "ContextOptions",
    "ENCODINGS",
    "ImportMode",
    "Meta",
    "MetricsOptions",
    "NewEvent",
    "RetryPolicy",
]

#: An event's meta: a dict (sent as JSON), a JSON text (sent verbatim) or
#: None (``{}``).
Meta = Union[Mapping[str, Any], str, None]

#: A PEM credential: a file path, or the PEM bytes themselves.
Pem = Union[str, "os.PathLike[str]", bytes]


@dataclass(frozen=True)
class ConnectOptions:
    """How to connect (the Rust client's ``ConnectOptions``).

    TLS is on with an ``https://`` address or any of ``ca``, ``cert``,
    ``key``, ``tls_server_name``; a server started with tokens wants
    ``token``. ``_channel`` is the one place that turns options into a
    channel and into per-call metadata.
    """

    #: Default deadline of each unary call, in seconds (None = none).
    #: Streaming calls (subscriptions, export) have none.
    timeout: Optional[float] = 30.0
    #: Longest wait for the connection in ``Client.connect`` (seconds).
    connect_timeout: float = 5.0
    #: Largest message sent or received (the server's own limit,
    #: ``stats().limits.max_message_bytes``, may be smaller).
    max_message_bytes: int = 64 * 1024 * 1024
    #: ``Client.connect`` returns at once and connects on first use: then it
    #: never fails for an unreachable server.
    lazy: bool = False
    #: Further grpc channel arguments, applied last (e.g.
    #: ``(("grpc.keepalive_time_ms", 30000),)``).
    channel_options: Tuple[Tuple[str, Any], ...] = ()
    #: TLS: the CA certificate(s) the server's certificate must chain to
    #: (default: grpc's bundled roots).
    ca: Optional[Pem] = None
    #: Mutual TLS: our certificate chain and its private key.
    cert: Optional[Pem] = None
    key: Optional[Pem] = None
    #: The name the server's certificate must carry (default: the
    #: address's host).
    tls_server_name: Optional[str] = None
    #: Sent as ``authorization: Bearer TOKEN`` with every call; never shown
    #: by ``repr``.
    token: Optional[str] = field(default=None, repr=False)
    #: The mind every Ledger and Mind call addresses, sent as the
    #: ``pmm-mind`` header (None = no header: the server's ``default``).
    #: ``Client(mind=...)`` and ``Client.with_mind`` override it.
    mind: Optional[str] = None

    @property
    def tls(self) -> bool:
        """Whether any TLS option is set."""
        return any(v is not None for v in (self.ca, self.cert, self.key, self.tls_server_name))


def meta_text(meta: Meta) -> str:
    """The wire text of a meta. A dict is written as the reference writes meta
    (``json.dumps`` defaults, as the Rust client does), so that rows export
    and re-import byte for byte; a text is sent as is (the server checks it
    is a JSON object and stores it verbatim)."""
    if meta is None:
        return ""
    if isinstance(meta, str):
        return meta
    if isinstance(meta, Mapping):
        return json.dumps(dict(meta), allow_nan=False)
    raise TypeError(f"meta: expected a dict, a JSON text or None, not {type(meta).__name__}")


@dataclass(frozen=True)
class NewEvent:
    """One event to append; the server assigns id, ts and hashes."""

    kind: str
    content: str = ""
    meta: Meta = None
    #: A retry with the same key returns the original row instead of writing.
    idempotency_key: Optional[str] = None

    def to_proto(self) -> ledger_pb2.EventInput:
        return ledger_pb2.EventInput(
            kind=self.kind,
            content=self.content,
            meta=meta_text(self.meta),
            idempotency_key=self.idempotency_key or "",
        )


@dataclass(frozen=True)
class ContextOptions:
    """Parameters of the context block; unset = the reference's defaults."""

    #: The compact layout instead of the standard one.
    compact: bool = False
    #: Number of reflections (server default 3).
    n_reflections: Optional[int] = None
    #: Budget of the commitments list, in code points (default 400).
    max_commitment_chars: Optional[int] = None
    #: Budget of the reflections list, in code points (default 600).
    max_reflection_chars: Optional[int] = None
    #: Fold only the last ``tail`` rows (default: the whole ledger).
    tail: Optional[int] = None
    #: Historical view as of this id (must be unset in ``append`` views).
    as_of_id: Optional[int] = None
    #: Also the block's size section by section (bytes, code points,
    #: tokens), in the response's ``breakdown``; nothing is counted otherwise.
    breakdown: bool = False
    #: The tokenizer counting the breakdown's tokens: one of ``ENCODINGS``
    #: (None = the server's default, ``o200k_base``).
    encoding: Optional[str] = None

    def to_proto(self) -> mind_pb2.GetContextRequest:
        req = mind_pb2.GetContextRequest(
            layout=mind_pb2.CONTEXT_LAYOUT_COMPACT if self.compact else mind_pb2.CONTEXT_LAYOUT_STANDARD,
            include_breakdown=self.breakdown,
            encoding=encoding_value(self.encoding),
        )
        for name in ("n_reflections", "max_commitment_chars", "max_reflection_chars", "tail", "as_of_id"):
            value = getattr(self, name)
            if value is not None:
                setattr(req, name, value)
        return req


#: The tokenizers a context breakdown can count with (``o200k_base`` is the
#: server's default).
ENCODINGS = ("o200k_base", "cl100k_base")


def encoding_value(name: Optional[str]) -> int:
    """The ``TokenEncoding`` of an encoding's name (None = unspecified)."""
    if name is None:
        return int(mind_pb2.TOKEN_ENCODING_UNSPECIFIED)
    if name not in ENCODINGS:
        raise ValueError(f"encoding: {name!r} is not one of {', '.join(ENCODINGS)}")
    return int(mind_pb2.TokenEncoding.Value("TOKEN_ENCODING_" + name.upper()))


def encoding_name(value: int) -> str:
    """``o200k_base`` for ``TOKEN_ENCODING_O200K_BASE``."""
    return mind_pb2.TokenEncoding.Name(value).removeprefix("TOKEN_ENCODING_").lower()


def section_name(value: int) -> str:
    """``commitments`` for ``CONTEXT_SECTION_COMMITMENTS``."""
    return mind_pb2.ContextSection.Name(value).removeprefix("CONTEXT_SECTION_").lower()


@dataclass(frozen=True)
class MetricsOptions:
    """Parameters of the metrics."""

    #: Also compute the IAS diagnosis.
    include_diagnosis: bool = False
    #: Historical view as of this id (must be unset in ``append`` views).
    as_of_id: Optional[int] = None

    def to_proto(self) -> mind_pb2.GetMetricsRequest:
        req = mind_pb2.GetMetricsRequest(include_diagnosis=self.include_diagnosis)
        if self.as_of_id is not None:
            req.as_of_id = self.as_of_id
        return req


class ImportMode(enum.Enum):
    """How ``import_rows`` checks rows."""

    #: Every new row must verify against the chain.
    VERIFY = ledger_pb2.IMPORT_MODE_VERIFY
    #: Rows are stored as given, hashes unchecked (to copy a broken chain).
    VERBATIM = ledger_pb2.IMPORT_MODE_VERBATIM


@dataclass(frozen=True)
class RetryPolicy:
    """How a resilient subscription retries: a bounded exponential backoff."""

    #: Wait before the first retry (seconds).
    initial_backoff: float = 0.1
    #: Longest wait between retries; the backoff doubles up to this.
    max_backoff: float = 5.0
    #: Most consecutive failed attempts (no message received in between)
    #: before giving up; None = retry for ever.
    max_attempts: Optional[int] = None

    @classmethod
    def never(cls) -> "RetryPolicy":
        """The first failure ends the subscription with its error."""
        return cls(max_attempts=0)

    def delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based)."""
        doublings = min(max(attempt - 1, 0), 30)
        return min(self.initial_backoff * (1 << doublings), self.max_backoff)
