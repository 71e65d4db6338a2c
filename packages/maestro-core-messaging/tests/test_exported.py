"""The public namespace is exactly __all__, importing stays light, the version is the metadata's."""

from __future__ import annotations

import maestro_core_messaging
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert_public_namespace(maestro_core_messaging)


def test_import_loads_no_broker_client_pydantic_or_sqlalchemy() -> None:
    """A fresh `import maestro_core_messaging` loads no broker client, pydantic or SQLAlchemy."""
    assert_light_import(
        "maestro_core_messaging",
        {"aio_pika", "aiormq", "redis", "nats", "pydantic", "sqlalchemy", "faststream"},
    )


def test_version_comes_from_the_metadata() -> None:
    """__version__ equals the installed distribution's version."""
    assert maestro_core_messaging.__version__ == package_version("maestro-core-messaging")


def test_original_exception_names_are_the_same_classes() -> None:
    """The original package's exception names are aliases of the new classes."""
    m = maestro_core_messaging
    assert m.MessagingException is m.MaestroMessagingError
    assert m.PublishException is m.PublishError
    assert m.ConsumeException is m.ConsumeError
    assert m.SerializationException is m.SerializationError


def test_every_exported_exception_is_in_the_family() -> None:
    """Every exception class exported derives from MaestroMessagingError."""
    m = maestro_core_messaging
    for name in m.__all__:
        obj = getattr(m, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, m.MaestroMessagingError), name
