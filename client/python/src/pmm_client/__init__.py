"""pmm-client: a typed Python client for pmm, the hash-chained event ledger
of an AI agent's mind (the ``pmm.v1.Ledger``, ``pmm.v1.Mind`` and
``pmm.v1.Minds`` gRPC services).

    from pmm_client import Client

    with Client.connect("127.0.0.1:50051") as pmm:
        pmm.append("identity_adopt", "Echo", {"confidence": 0.95})
        print(pmm.get_context().text)
        with pmm.subscribe_resilient(only_new=True) as sub:
            for item in sub:
                print(item)

    with Client.connect("127.0.0.1:50051", mind="alice") as alice:
        alice.append("user", "hello, Alice")   # sent with pmm-mind: alice

The generated messages and stubs are ``pmm_client.v1`` (``ledger_pb2``,
``mind_pb2``, ``minds_pb2``, ...); the proto files document every field.
"""
from ._channel import DEFAULT_ADDRESS, DEFAULT_MIND, MIND_HEADER, check_mind_name
from ._client import Client
from ._errors import PmmError
from ._options import ENCODINGS, ConnectOptions, ContextOptions, ImportMode, Meta, MetricsOptions, NewEvent, Pem, RetryPolicy
from ._subscribe import Subscription
from ._types import (
    AppendOutcome,
    Appended,
    CaughtUp,
    ContextBreakdown,
    Event,
    Head,
    Heartbeat,
    Identity,
    IdentityView,
    ImportOutcome,
    Page,
    Projection,
    ProjectionWarning,
    Reconnecting,
    SectionSize,
    SelfModel,
    SubItem,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_MIND",
    "MIND_HEADER",
    "ENCODINGS",
    "AppendOutcome",
    "Appended",
    "CaughtUp",
    "Client",
    "ConnectOptions",
    "ContextBreakdown",
    "ContextOptions",
    "Event",
    "Head",
    "Heartbeat",
    "Identity",
    "IdentityView",
    "ImportMode",
    "ImportOutcome",
    "Meta",
    "MetricsOptions",
    "NewEvent",
    "Page",
    "Pem",
    "PmmError",
    "Projection",
    "ProjectionWarning",
    "Reconnecting",
    "RetryPolicy",
    "SectionSize",
    "SelfModel",
    "SubItem",
    "Subscription",
    "check_mind_name",
]
