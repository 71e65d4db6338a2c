"""Broker restarts: private redis-server / nats-server instances restarted, RabbitMQ cut by a proxy.

Consumers resume without a new subscribe call, publishes either succeed or raise
PublishNotConfirmedError (never silently lost), and reconnects_total counts the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from maestro_core_messaging import MessageBroker, PublishNotConfirmedError
from maestro_testkit import free_port, require_service, unique_name


@dataclass
class Outage:
    """A broker URL and a coroutine that takes the broker away and brings it back."""

    url: str
    bounce: Callable[[], Awaitable[None]]


async def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert time.monotonic() < deadline, f"port {port} did not open"
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


class _Server:
    """A private server process restarted on the same port and data directory."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.argv = argv
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await _wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    async def bounce(self) -> None:
        self.stop()
        await asyncio.sleep(0.3)
        await self.start()


class _Proxy:
    """A TCP proxy to RabbitMQ whose connections can be cut."""

    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in self.writers:
            writer.close()
        self.writers = []

    async def bounce(self) -> None:
        await self.stop()
        await asyncio.sleep(0.3)
        await self.start()


@pytest.fixture(params=["redis", "nats", "rabbitmq"])
async def outage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outage]:
    """A broker that can be restarted (private Redis / NATS) or cut (RabbitMQ proxy)."""
    kind = str(request.param)
    port = free_port()
    if kind == "rabbitmq":
        require_service("rabbitmq")
        proxy = _Proxy(port, 5672)
        await proxy.start()
        yield Outage(f"amqp://guest:guest@127.0.0.1:{port}/", proxy.bounce)
        await proxy.stop()
        return
    binary = {"redis": "redis-server", "nats": "nats-server"}[kind]
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed (tools/system-deps.sh)")
    if kind == "redis":
        argv = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ]
        url = f"redis://127.0.0.1:{port}/0"
    else:
        argv = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(tmp_path)]
        url = f"nats://127.0.0.1:{port}"
    server = _Server(argv, port)
    await server.start()
    yield Outage(url, server.bounce)
    server.stop()


async def _publish_until_confirmed(broker: MessageBroker, topic: str, n: int) -> int:
    """Publish, retrying on PublishNotConfirmedError; returns how many attempts failed."""
    failures = 0
    deadline = time.monotonic() + 20
    while True:
        try:
            await broker.publish(topic, n)
            return failures
        except PublishNotConfirmedError:
            failures += 1
            assert time.monotonic() < deadline, "the broker never came back"
            await asyncio.sleep(0.1)


async def test_consumers_resume_after_a_broker_restart(outage: Outage) -> None:
    """After the broker restarts, the same subscriber handles new messages; reconnects counted."""
    topic = unique_name("rs").replace("-", "_") + ".jobs"
    broker = MessageBroker.from_url(outage.url, reclaim_idle=0.5, backoff=0.05, drain_timeout=1)
    got: list[int] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int) -> None:
        got.append(n)

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
        await outage.bounce()
        await _publish_until_confirmed(broker, topic, 2)  # any other error fails the test
        deadline = time.monotonic() + 20
        while 2 not in got:
            assert time.monotonic() < deadline, f"consumer did not resume: {got}"
            await asyncio.sleep(0.05)
        assert broker.stats().reconnects_total >= 1
        await broker.delete_topic(topic, ["g"])
    assert got[0] == 1
    assert 2 in got


@pytest.mark.slow
async def test_publishes_during_an_outage_are_confirmed_or_raise(outage: Outage) -> None:
    """While the broker goes away and back, each publish is confirmed or raises
    PublishNotConfirmedError; every confirmed one is consumed afterwards."""
    topic = unique_name("ro").replace("-", "_") + ".jobs"
    broker = MessageBroker.from_url(outage.url, reclaim_idle=0.5, backoff=0.05, drain_timeout=1)
    got: set[int] = set()

    @broker.subscriber(topic, group="g")
    async def handle(n: int) -> None:
        got.add(n)

    async with broker:
        bounce = asyncio.create_task(outage.bounce())  # type: ignore[arg-type, var-annotated]
        confirmed: set[int] = set()
        refused = 0
        n = 0
        while not bounce.done() or len(confirmed) < 3:
            n += 1
            try:
                await asyncio.wait_for(broker.publish(topic, n), 12)
            except PublishNotConfirmedError:
                refused += 1
                await asyncio.sleep(0.05)
            else:
                confirmed.add(n)
        await bounce
        deadline = time.monotonic() + 20
        while not confirmed <= got:
            assert time.monotonic() < deadline, f"confirmed but lost: {sorted(confirmed - got)}"
            await asyncio.sleep(0.05)
        await broker.delete_topic(topic, ["g"])
    assert confirmed


@pytest.mark.parametrize("outage", ["rabbitmq"], indirect=True)
async def test_rabbitmq_consumer_restored_after_a_cut_takes_aiormq_messages(
    outage: Outage,
) -> None:
    """The consumer the robust connection restores after a cut is registered on aiormq like
    the first one (no IncomingMessage per delivery), and its deliveries settle."""
    from maestro_core_messaging import Message
    from maestro_core_messaging._rabbitmq import _RabbitDelivery

    topic = unique_name("rd").replace("-", "_") + ".jobs"
    broker = MessageBroker.from_url(outage.url, backoff=0.05, drain_timeout=1)
    kinds: dict[int, type] = {}

    @broker.subscriber(topic, group="g")
    async def handle(n: int, message: Message) -> None:
        kinds[n] = type(message._delivery)

    async with broker:
        await broker.publish(topic, 1)
        await broker.join(timeout=10)
        await outage.bounce()
        await _publish_until_confirmed(broker, topic, 2)
        deadline = time.monotonic() + 20
        while 2 not in kinds:
            assert time.monotonic() < deadline, f"consumer did not resume: {kinds}"
            await asyncio.sleep(0.05)
        await broker.join(timeout=10)
        await broker.delete_topic(topic, ["g"])
    assert kinds == {1: _RabbitDelivery, 2: _RabbitDelivery}
