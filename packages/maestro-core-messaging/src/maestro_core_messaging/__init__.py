"""One async publish/subscribe API over an in-process broker, RabbitMQ, Redis Streams and
NATS JetStream: broker-counted retries, dead letters, CloudEvents, outbox and inbox."""

from ._broker import MessageBroker
from ._errors import (
    BrokerConnectionError,
    ConfigurationError,
    ConsumeError,
    MaestroMessagingError,
    MissingExtraError,
    PublishError,
    PublishNotConfirmedError,
    SerializationError,
    UnsupportedBackendError,
)
from ._event import Event
from ._message import Message
from ._outbox import Inbox, Outbox, OutboxRelay, messaging_metadata
from ._types import AckPolicy, BrokerType, MessagingStats, Reject, Retry
from ._version import __version__

# The original package's exception names (the same classes).
MessagingException = MaestroMessagingError
PublishException = PublishError
ConsumeException = ConsumeError
SerializationException = SerializationError

__all__ = [
    "AckPolicy",
    "BrokerConnectionError",
    "BrokerType",
    "ConfigurationError",
    "ConsumeError",
    "ConsumeException",
    "Event",
    "Inbox",
    "MaestroMessagingError",
    "Message",
    "MessageBroker",
    "MessagingException",
    "MessagingStats",
    "MissingExtraError",
    "Outbox",
    "OutboxRelay",
    "PublishError",
    "PublishException",
    "PublishNotConfirmedError",
    "Reject",
    "Retry",
    "SerializationError",
    "SerializationException",
    "UnsupportedBackendError",
    "__version__",
    "messaging_metadata",
]
