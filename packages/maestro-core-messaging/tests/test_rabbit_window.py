"""RabbitMQ publish_many keeps a sliding window of confirms (issue 18, M2): each confirm
lets the next publish go, instead of draining a whole window before starting the next."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from maestro_core_messaging import MessageBroker, PublishNotConfirmedError
from maestro_testkit import unique_name


@pytest.fixture
def topic() -> str:
    return unique_name("mw").replace("-", "_").replace(".", "_") + ".events"


async def _cleanup(url: str, topic: str) -> None:
    cleaner = MessageBroker.from_url(url)
    try:
        await cleaner.delete_topic(topic, groups=["g"])
    finally:
        await cleaner.disconnect()


async def test_publish_many_keeps_order_through_the_window(rabbitmq_url: str, topic: str) -> None:
    broker = MessageBroker.from_url(rabbitmq_url, source="tests", publish_window=3)
    got: list[int] = []

    @broker.subscriber(topic, group="g")
    async def handle(n: int) -> None:
        got.append(n)

    try:
        async with broker:
            ids = await broker.publish_many(topic, range(30))
            await broker.join(timeout=10)
    finally:
        await _cleanup(rabbitmq_url, topic)
    assert len(set(ids)) == 30
    assert got == list(range(30))


async def test_each_confirm_lets_the_next_publish_go(
    rabbitmq_url: str, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a window of 3: when the first publish is confirmed the fourth starts at once,
    while the second and third still wait (a drained window would hold it back)."""
    broker = MessageBroker.from_url(rabbitmq_url, source="tests", publish_window=3)
    confirms: dict[int, asyncio.Future[None]] = {}
    started: list[int] = []

    async def controlled(topic_: str, event: Any, channel: Any) -> None:
        number = int(event.data)
        started.append(number)
        confirms[number] = asyncio.get_running_loop().create_future()
        await confirms[number]

    try:
        async with broker:
            await broker.create_topic(topic)
            backend: Any = await broker._ensure_backend()
            monkeypatch.setattr(backend, "_publish_one", controlled)
            call = asyncio.ensure_future(broker.publish_many(topic, range(6)))
            await asyncio.sleep(0.01)
            assert started == [0, 1, 2]
            confirms[0].set_result(None)
            await asyncio.sleep(0.01)
            assert started == [0, 1, 2, 3]  # 1 and 2 are still unconfirmed
            assert not call.done()
            for number in (1, 2, 3):
                confirms[number].set_result(None)
            await asyncio.sleep(0.01)
            assert started == [0, 1, 2, 3, 4, 5]
            confirms[4].set_result(None)
            confirms[5].set_result(None)
            assert len(await asyncio.wait_for(call, 5)) == 6
    finally:
        await _cleanup(rabbitmq_url, topic)


async def test_a_failed_publish_ends_the_call_and_leaves_nothing_running(
    rabbitmq_url: str, topic: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broker = MessageBroker.from_url(rabbitmq_url, source="tests", publish_window=4)
    started = 0
    try:
        async with broker:
            await broker.create_topic(topic)
            backend: Any = await broker._ensure_backend()
            real = backend._publish_one

            async def failing(topic_: str, event: Any, channel: Any) -> None:
                nonlocal started
                started += 1
                if started in (6, 7):  # two failures in one window: both are retrieved
                    raise PublishNotConfirmedError("nack from the test")
                await real(topic_, event, channel)

            monkeypatch.setattr(backend, "_publish_one", failing)
            with pytest.raises(PublishNotConfirmedError):
                await broker.publish_many(topic, range(40))
            await asyncio.sleep(0.05)
            gc.collect()  # an unretrieved task exception is logged when the task is freed
            await asyncio.sleep(0)
            assert started < 40  # the call stopped early
            tasks = [t for t in asyncio.all_tasks() if "failing" in repr(t)]
            assert tasks == []
            assert "never retrieved" not in caplog.text
    finally:
        await _cleanup(rabbitmq_url, topic)
