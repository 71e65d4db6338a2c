"""Ack policies and settlement on the in-process broker (the same runtime serves every backend)."""

from __future__ import annotations

from maestro_core_messaging import AckPolicy, Message, MessageBroker
from maestro_testkit import unique_name


def _broker() -> MessageBroker:
    return MessageBroker.from_url(f"memory://{unique_name('hub')}", backoff=0.01)


async def test_reject_on_error_dead_letters_on_the_first_failure() -> None:
    """REJECT_ON_ERROR dead-letters at once with reason error and the exception as last error."""
    broker = _broker()
    calls: list[int] = []

    @broker.subscriber("jobs.run", group="g", ack_policy=AckPolicy.REJECT_ON_ERROR)
    async def handle(n: int) -> None:
        calls.append(n)
        raise KeyError("sku")

    async with broker:
        await broker.publish("jobs.run", 1)
        await broker.join(timeout=5)
        [dead] = await broker.dead_letters("jobs.run", "g")
    assert calls == [1]
    assert dead.extensions["deadletterreason"] == "error"
    assert dead.extensions["lasterror"] == "KeyError: 'sku'"


async def test_nack_on_error_requeues_until_the_limit() -> None:
    """NACK_ON_ERROR requeues at once, still counted, and dead-letters at max_deliveries."""
    broker = _broker()
    counts: list[int] = []

    @broker.subscriber("jobs.run", group="g", ack_policy=AckPolicy.NACK_ON_ERROR, max_deliveries=4)
    async def handle(n: int, message: Message) -> None:
        counts.append(message.delivery_count)
        raise RuntimeError("busy")

    async with broker:
        await broker.publish("jobs.run", 1)
        await broker.join(timeout=5)
        dead = await broker.dead_letters("jobs.run", "g")
    assert counts == [1, 2, 3, 4]
    assert [d.extensions["deliverycount"] for d in dead] == ["4"]


async def test_manual_term_dead_letters_with_the_reason() -> None:
    """message.term(reason) stops redelivery and keeps the message as a dead letter."""
    broker = _broker()

    @broker.subscriber("jobs.run", group="g", ack_policy=AckPolicy.MANUAL)
    async def handle(n: int, message: Message) -> None:
        await message.term("customer deleted")
        await message.ack()  # settling twice is a no-op

    async with broker:
        await broker.publish("jobs.run", 1)
        await broker.join(timeout=5)
        [dead] = await broker.dead_letters("jobs.run", "g")
    assert dead.extensions["deadletterreason"] == "terminated"
    assert dead.extensions["lasterror"] == "customer deleted"


async def test_traceparent_continues_the_handled_messages_trace() -> None:
    """A publish inside a handler keeps the trace id of the message being handled."""
    broker = _broker()
    seen: dict[str, str] = {}

    @broker.subscriber("orders.created", group="g")
    async def first(n: int, message: Message) -> None:
        seen["parent"] = message.headers["traceparent"]
        await broker.publish("orders.billed", n)

    @broker.subscriber("orders.billed", group="g")
    async def second(n: int, message: Message) -> None:
        seen["child"] = message.headers["traceparent"]

    async with broker:
        await broker.publish("orders.created", 1)
        await broker.join(timeout=5)
    assert seen["parent"].split("-")[1] == seen["child"].split("-")[1]
    assert seen["parent"].split("-")[2] != seen["child"].split("-")[2]


async def test_a_subscriber_added_while_running_starts_at_once() -> None:
    """The original subscribe(topic, handler, group_id=) starts consuming on a running broker."""
    broker = _broker()
    got: list[int] = []

    async def handle(n: int) -> None:
        got.append(n)

    async with broker:
        await broker.subscribe("jobs.run", handle, group_id="late")
        await broker.publish("jobs.run", 5)
        await broker.join(timeout=5)
    assert got == [5]
