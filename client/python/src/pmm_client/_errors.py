"""``PmmError``: how every failed call surfaces, keeping what the server said."""
from __future__ import annotations

from typing import Mapping, Optional

import grpc

__all__ = ["PmmError"]

# Codes of a write that lost a race or conflicts with what is stored.
_CONFLICTS = frozenset(
    {grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS}
)


class PmmError(Exception):
    """A failed call: the gRPC status code, its message and the trailers.

    ``message`` is the server's text, e.g. ``events[0].meta: not a JSON
    object``. For ABORTED (``expected_last_id`` mismatch) and
    FAILED_PRECONDITION (an import conflicting with the stored chain)
    ``last_id``/``last_hash`` give the ledger head from the ``pmm-last-id`` /
    ``pmm-last-hash`` trailers, so the caller can re-read and retry without
    another round trip. Failures made up by the client (connect timeout, a
    subscription whose connection went silent, a response it cannot read)
    carry a code too, and no trailers.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        trailers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.trailers: dict[str, str] = dict(trailers or {})

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> "PmmError":
        """Converts what grpcio raises (a ``grpc.Call`` as well as an RpcError)."""
        code_of = getattr(err, "code", None)
        code = code_of() if callable(code_of) else None
        details_of = getattr(err, "details", None)
        details = details_of() if callable(details_of) else None
        trailers_of = getattr(err, "trailing_metadata", None)
        trailers: dict[str, str] = {}
        for key, value in (trailers_of() if callable(trailers_of) else None) or ():
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            trailers[key] = value
        return cls(code or grpc.StatusCode.UNKNOWN, details or str(err), trailers)

    @property
    def last_id(self) -> Optional[int]:
        """The ledger's last id sent with a conflict (``pmm-last-id``)."""
        value = self.trailers.get("pmm-last-id")
        return int(value) if value else None

    @property
    def last_hash(self) -> Optional[str]:
        """The ledger's last hash sent with a conflict (``pmm-last-hash``);
        None when the ledger is empty or no head was sent."""
        return self.trailers.get("pmm-last-hash") or None

    @property
    def is_conflict(self) -> bool:
        """ABORTED, FAILED_PRECONDITION or ALREADY_EXISTS: re-read, then retry."""
        return self.code in _CONFLICTS

    @property
    def is_transient(self) -> bool:
        """UNAVAILABLE: the server is starting or stopping, or the connection
        failed or dropped; the same call may succeed later."""
        return bool(self.code == grpc.StatusCode.UNAVAILABLE)
