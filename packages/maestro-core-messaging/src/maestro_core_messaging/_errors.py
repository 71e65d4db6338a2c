"""The exceptions of maestro-core-messaging: one family, rooted in MaestroMessagingError.

Hierarchy::

    Exception
     +-- MaestroMessagingError             (alias MessagingException)
          +-- ConfigurationError           also a ValueError: a bad argument, before any I/O
          |    +-- UnsupportedBackendError a backend 1.0 does not ship (kafka)
          +-- BrokerConnectionError        also a ConnectionError: the broker is unreachable
          +-- PublishError                 (alias PublishException) not published
          |    +-- PublishNotConfirmedError  no confirm: maybe stored, publish again
          +-- ConsumeError                 (alias ConsumeException) a subscriber cannot consume
          +-- SerializationError           (alias SerializationException) encode/decode failed
          +-- Reject                       raised by a handler: dead-letter now
          +-- Retry                        raised by a handler: redeliver after a delay
          +-- MissingExtraError            also an ImportError: install the named extra

``Reject`` and ``Retry`` (defined in ``_types``) are not failures: a handler raises them to
steer the delivery.
"""

from __future__ import annotations

__all__ = [
    "BrokerConnectionError",
    "ConfigurationError",
    "ConsumeError",
    "MaestroMessagingError",
    "MissingExtraError",
    "PublishError",
    "PublishNotConfirmedError",
    "SerializationError",
    "UnsupportedBackendError",
]


class MaestroMessagingError(Exception):
    """Base class of every error raised by maestro-core-messaging."""


class ConfigurationError(MaestroMessagingError, ValueError):
    """A bad argument (topic name, backoff, URL, ...); raised before any I/O."""


class UnsupportedBackendError(ConfigurationError):
    """The backend named is not one this version supports; the message lists the supported ones."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        super().__init__(
            f"broker backend {backend!r} is not supported: use one of memory, rabbitmq, "
            "redis or nats (Kafka is not a 1.0 backend)"
        )

    def __reduce__(self) -> tuple[type[UnsupportedBackendError], tuple[str]]:
        return (type(self), (self.backend,))


class BrokerConnectionError(MaestroMessagingError, ConnectionError):
    """The broker could not be reached (the URL in the message has its password masked)."""


class PublishError(MaestroMessagingError):
    """A message was not published (too large, bad topic, broker refused it)."""


class PublishNotConfirmedError(PublishError):
    """The broker did not confirm a publish: the message may or may not be stored; retry it.

    Consumers deduplicate by event id (``Inbox``), so publishing the same event again is safe.
    """


class ConsumeError(MaestroMessagingError):
    """A subscriber could not consume (topology, lost connection that could not be restored)."""


class SerializationError(MaestroMessagingError):
    """A payload could not be encoded, or a received message could not be decoded."""


class MissingExtraError(MaestroMessagingError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-core-messaging[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))


def require(module: str, feature: str, extra: str) -> None:
    """Import ``module`` or raise MissingExtraError (a broken install re-raises as is)."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == module or module.startswith(exc.name + ".")):
            raise MissingExtraError(feature, extra, module) from None
        raise
