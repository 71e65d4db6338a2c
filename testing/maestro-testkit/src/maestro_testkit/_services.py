"""Real services on 127.0.0.1: skip with a reason locally, fail under ``CI=true``."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True)
class Service:
    """A shared service the machine runs, and the URL tests use to reach it."""

    name: str
    port: int
    url: str
    start_hint: str


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("redis", 6379, "redis://127.0.0.1:6379/0", "bash tools/services.sh"),
        Service(
            "postgres",
            5432,
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "bash tools/services.sh",
        ),
        Service("mariadb", 3306, "mysql://root@127.0.0.1:3306/test", "bash tools/services.sh"),
        Service("rabbitmq", 5672, "amqp://guest:guest@127.0.0.1:5672/", "bash tools/services.sh"),
        Service("nats", 4222, "nats://127.0.0.1:4222", "bash tools/services.sh"),
        Service("mqtt", 1883, "mqtt://127.0.0.1:1883", "bash tools/services.sh"),
    )
}


def _answers(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str) -> Service:
    """The named service if it answers; else skip (locally) or fail (under ``CI=true``)."""
    service = SERVICES[name]
    if not _answers(service.port):
        message = (
            f"{service.name} does not answer on 127.0.0.1:{service.port}; "
            f"start it with `{service.start_hint}`"
        )
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing service is a failure)")
        pytest.skip(message)
    return service


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_name(prefix: str = "t") -> str:
    """A name no other test (or test run) uses: for keys, queues, streams, databases."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
