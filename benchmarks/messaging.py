"""maestro-core-messaging against its anchors, in one process, 10k small JSON events.

Paths (ours vs anchor, each end to end: publish, then consume until the last arrives):
  M1 RabbitMQ sequential confirmed publish + consume      vs raw aio-pika        (aim >= 0.9x)
  M2 RabbitMQ publish_many (window 100) + consume         vs aio-pika window 100 (aim >= 1.0x)
  M3 Redis Streams publish_many + group consumer           vs raw redis-py pipeline-100 +
                                                             XREADGROUP/XACK (aim >= 0.5x) and
                                                             vs FastStream's Redis broker (>= 5x)
  M4 in-process broker publish -> handler                  vs FastStream's TestRabbitBroker (>= 20x)
  M5 confirms on vs off (RabbitMQ publish_many, informational: safety costs this much)
  N  NATS JetStream publish_many + pull consumer           vs raw nats-py (aim >= 0.8x)
  O  outbox relay PostgreSQL -> RabbitMQ                   vs publish_many alone (aim >= 0.8x)

Needs RabbitMQ, Redis, NATS (JetStream) and PostgreSQL on 127.0.0.1 (a missing one skips its
path). Usage: python benchmarks/messaging.py [--n 10000] [--rounds 3] [--only m3,nats].
Ours and the anchor alternate within each round (after one untimed warm-up of each); the
line shows the median rates, the median of the per-round ratios and their range.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from maestro_core_messaging import MessageBroker, Outbox, OutboxRelay

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
REDIS = "redis://127.0.0.1:6379/0"
NATS = "nats://127.0.0.1:4222"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PAYLOAD = {"order_id": "o-000000", "total": 19.5, "currency": "EUR", "ok": True}


def _up(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _name(prefix: str) -> str:
    return f"bench_{prefix}_{uuid.uuid4().hex[:8]}"


async def _until(predicate: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark consumer did not finish")
        await asyncio.sleep(0.001)


# -- ours ------------------------------------------------------------------------------------
async def ours_e2e(url: str, n: int, *, many: bool, confirm: bool = True) -> float:
    topic = _name("m") + ".events"
    broker = MessageBroker.from_url(url, source="bench", prefetch=200, confirm=confirm)
    done = 0

    @broker.subscriber(topic, group="bench", concurrency=64)
    async def handle(event: dict[str, Any]) -> None:
        nonlocal done
        done += 1

    async with broker:
        start = time.perf_counter()
        if many:
            await broker.publish_many(topic, [PAYLOAD] * n)
        else:
            for _ in range(n):
                await broker.publish(topic, PAYLOAD)
        await _until(lambda: done >= n)
        elapsed = time.perf_counter() - start
    await broker.delete_topic(topic, ["bench"])
    await broker.disconnect()
    return n / elapsed


# -- raw aio-pika --------------------------------------------------------------------------------
async def aio_pika_e2e(n: int, *, window: int) -> float:
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    channel = await connection.channel(publisher_confirms=True)
    consume_channel = await connection.channel()
    await consume_channel.set_qos(prefetch_count=200)
    name = _name("raw")
    queue = await consume_channel.declare_queue(
        name, durable=True, arguments={"x-queue-type": "quorum"}
    )
    done = 0

    async def on_message(message: Any) -> None:
        nonlocal done
        orjson.loads(message.body)
        await message.ack()
        done += 1

    await queue.consume(on_message)
    body = orjson.dumps(PAYLOAD)
    start = time.perf_counter()

    def msg() -> Any:
        return aio_pika.Message(
            body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, content_type="application/json"
        )

    if window == 1:
        for _ in range(n):
            await channel.default_exchange.publish(msg(), routing_key=name)
    else:
        for start_at in range(0, n, window):
            size = min(window, n - start_at)
            await asyncio.gather(
                *(channel.default_exchange.publish(msg(), routing_key=name) for _ in range(size))
            )
    await _until(lambda: done >= n)
    elapsed = time.perf_counter() - start
    await consume_channel.queue_delete(name)
    await connection.close()
    return n / elapsed


# -- raw redis-py --------------------------------------------------------------------------------
async def redis_raw_e2e(n: int) -> float:
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(REDIS)
    reader: Any = aioredis.Redis.from_url(REDIS)
    stream = _name("raw")
    await client.xgroup_create(stream, "g", id="$", mkstream=True)
    done = 0

    async def consume() -> None:
        nonlocal done
        while done < n:
            reply = await reader.xreadgroup("g", "c", {stream: ">"}, count=200, block=100)
            for _s, entries in reply or ():
                ids = []
                for msg_id, fields in entries:
                    orjson.loads(fields[b"data"])
                    ids.append(msg_id)
                await client.xack(stream, "g", *ids)
                done += len(ids)

    body = orjson.dumps(PAYLOAD)
    start = time.perf_counter()
    task = asyncio.create_task(consume())
    for start_at in range(0, n, 100):
        pipe = client.pipeline(transaction=False)
        for _ in range(min(100, n - start_at)):
            pipe.xadd(stream, {"data": body})
        await pipe.execute()
    await task
    elapsed = time.perf_counter() - start
    await client.delete(stream)
    await client.aclose()
    await reader.aclose()
    return n / elapsed


async def faststream_redis_e2e(n: int) -> float:
    from faststream.redis import RedisBroker, StreamSub

    broker = RedisBroker(REDIS, logger=None)  # type: ignore[arg-type]
    stream = _name("fs")
    done = 0

    @broker.subscriber(stream=StreamSub(stream, group="g", consumer="c"))
    async def handle(event: dict[str, Any]) -> None:
        nonlocal done
        done += 1

    await broker.start()
    start = time.perf_counter()
    for _ in range(n):
        await broker.publish(PAYLOAD, stream=stream)
    await _until(lambda: done >= n)
    elapsed = time.perf_counter() - start
    await broker.stop()
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    await client.delete(stream)
    await client.aclose()
    return n / elapsed


async def faststream_test_broker(n: int) -> float:
    from faststream.rabbit import RabbitBroker, TestRabbitBroker

    broker = RabbitBroker(logger=None)
    done = 0

    @broker.subscriber("bench-queue")
    async def handle(event: dict[str, Any]) -> None:
        nonlocal done
        done += 1

    async with TestRabbitBroker(broker) as test_broker:
        start = time.perf_counter()
        for _ in range(n):
            await test_broker.publish(PAYLOAD, "bench-queue")
        elapsed = time.perf_counter() - start
    assert done == n
    return n / elapsed


async def memory_e2e(n: int) -> float:
    broker = MessageBroker.from_url("memory://", source="bench")
    done = 0

    @broker.subscriber("bench.events", group="bench")
    async def handle(event: dict[str, Any]) -> None:
        nonlocal done
        done += 1

    async with broker:
        start = time.perf_counter()
        for _ in range(n):
            await broker.publish("bench.events", PAYLOAD)
        await _until(lambda: done >= n)
        elapsed = time.perf_counter() - start
    return n / elapsed


# -- raw nats-py -------------------------------------------------------------------------------
async def nats_raw_e2e(n: int) -> float:
    import nats
    from nats.js.api import ConsumerConfig

    nc = await nats.connect(NATS)
    js = nc.jetstream()
    subject = _name("raw")
    await js.add_stream(name=subject, subjects=[subject])
    await js.add_consumer(subject, ConsumerConfig(durable_name="g", filter_subject=subject))
    sub = await js.pull_subscribe_bind("g", stream=subject)
    done = 0

    async def consume() -> None:
        nonlocal done
        while done < n:
            try:
                msgs = await sub.fetch(200, timeout=0.5)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                orjson.loads(msg.data)
                await msg.ack()
            done += len(msgs)

    body = orjson.dumps(PAYLOAD)
    start = time.perf_counter()
    task = asyncio.create_task(consume())
    for start_at in range(0, n, 100):
        futures = [await js.publish_async(subject, body) for _ in range(min(100, n - start_at))]
        await asyncio.gather(*futures)
    await task
    elapsed = time.perf_counter() - start
    await js.delete_stream(subject)
    await nc.close()
    return n / elapsed


# -- outbox relay --------------------------------------------------------------------------------
async def outbox_relay(n: int) -> tuple[float, float]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG)
    outbox = Outbox(source="bench", table=_name("ob"))
    async with engine.begin() as conn:
        await conn.run_sync(outbox.table.metadata.create_all, tables=[outbox.table])
        for start_at in range(0, n, 1000):
            events = [outbox.event("bench.outbox", PAYLOAD) for _ in range(min(1000, n - start_at))]
            await conn.execute(
                outbox.table.insert(),
                [
                    {
                        "id": e.id,
                        "topic": "bench.outbox",
                        "event": e.to_json(),
                        "created_at": e.time,
                    }
                    for e in events
                ],
            )
    broker = MessageBroker.from_url(AMQP, source="bench")
    relay = OutboxRelay(engine, broker, batch_size=500, table=outbox.table.name, attach=False)
    topic = _name("o") + ".events"
    try:
        async with broker:
            await broker.create_topic("bench.outbox")
            start = time.perf_counter()
            await relay.relay_all()
            relay_rate = n / (time.perf_counter() - start)
            await broker.create_topic(topic)
            start = time.perf_counter()
            await broker.publish_many(topic, [PAYLOAD] * n)
            many_rate = n / (time.perf_counter() - start)
            await broker.delete_topic(topic)
            await broker.delete_topic("bench.outbox")
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(outbox.table.metadata.drop_all, tables=[outbox.table])
        await engine.dispose()
    return relay_rate, many_rate


# -- driver --------------------------------------------------------------------------------------
Run = Callable[[], Awaitable[float]]


async def interleaved(rounds: int, ours: Run, anchor: Run) -> tuple[list[float], list[float]]:
    """Rates of ours and the anchor, alternating within each round (who goes first too).

    One untimed warm-up of each first, so imports and first connections count for neither.
    """
    await ours()
    await anchor()
    ours_rates: list[float] = []
    anchor_rates: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            ours_rates.append(await ours())
            anchor_rates.append(await anchor())
        else:
            anchor_rates.append(await anchor())
            ours_rates.append(await ours())
    return ours_rates, anchor_rates


def line(
    label: str, ours: list[float], anchor: list[float], anchor_name: str, aim: float
) -> list[float]:
    """Print medians and the median and range of the per-round ratios; the ratios."""
    ratios = sorted(o / a for o, a in zip(ours, anchor, strict=True))
    ratio = statistics.median(ratios)
    verdict = "ok" if ratio >= aim else "BELOW AIM"
    print(
        f"{label:<44} ours {statistics.median(ours):>9,.0f}/s  {anchor_name} "
        f"{statistics.median(anchor):>9,.0f}/s  ratio {ratio:5.2f}x "
        f"(rounds {ratios[0]:.2f}-{ratios[-1]:.2f}; aim >= {aim}x) {verdict}",
        flush=True,
    )
    return ratios


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--n", type=int, default=10_000, help="events per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per path")
    parser.add_argument(
        "--only", default="", help="comma-separated paths to run: m1,m2,m3,m4,m5,nats,outbox"
    )
    args = parser.parse_args()
    n, rounds = args.n, args.rounds
    only = {p.strip().lower() for p in args.only.split(",") if p.strip()}

    def wanted(path: str) -> bool:
        return not only or path in only

    print(
        f"maestro-core-messaging benchmark: {n} events, {rounds} interleaved rounds "
        "(median ratio and the range over rounds)",
        flush=True,
    )
    if wanted("m4"):
        ours_mem, fs_test = await interleaved(
            rounds, lambda: memory_e2e(n), lambda: faststream_test_broker(min(n, 2000))
        )
        line(
            "M4 in-process broker vs FastStream TestBroker",
            ours_mem,
            fs_test,
            "faststream-test",
            20,
        )
    if _up(5672):
        if wanted("m1"):
            ours1, raw1 = await interleaved(
                rounds,
                lambda: ours_e2e(AMQP, n, many=False),
                lambda: aio_pika_e2e(n, window=1),
            )
            line("M1 RabbitMQ sequential confirmed e2e", ours1, raw1, "aio-pika", 0.9)
        if wanted("m2"):
            ours2, raw2 = await interleaved(
                rounds,
                lambda: ours_e2e(AMQP, n, many=True),
                lambda: aio_pika_e2e(n, window=100),
            )
            line("M2 RabbitMQ publish_many window 100 e2e", ours2, raw2, "aio-pika", 1.0)
        if wanted("m5"):
            off, on = await interleaved(
                rounds,
                lambda: ours_e2e(AMQP, n, many=True, confirm=False),
                lambda: ours_e2e(AMQP, n, many=True),
            )
            ratios = sorted(o / a for o, a in zip(off, on, strict=True))
            print(
                f"{'M5 confirms off vs on (publish_many e2e)':<44} "
                f"off {statistics.median(off):,.0f}/s  on {statistics.median(on):,.0f}/s  "
                f"({statistics.median(ratios):.2f}x, rounds {ratios[0]:.2f}-{ratios[-1]:.2f}; "
                "confirms stay on by default)",
                flush=True,
            )
    elif only & {"m1", "m2", "m5"} or not only:
        print("RabbitMQ not reachable: M1, M2, M5 skipped")
    if _up(6379) and wanted("m3"):
        ours3, raw3 = await interleaved(
            rounds, lambda: ours_e2e(REDIS, n, many=True), lambda: redis_raw_e2e(n)
        )
        line("M3 Redis Streams e2e vs raw pipelined", ours3, raw3, "redis-py", 0.5)
        # FastStream's Redis path is ~10x slower: 2,000 events, and ours at the same size
        small = min(n, 2000)
        ours3s, fs3 = await interleaved(
            rounds,
            lambda: ours_e2e(REDIS, small, many=True),
            lambda: faststream_redis_e2e(small),
        )
        line(f"M3 Redis Streams e2e vs FastStream ({small})", ours3s, fs3, "faststream", 5)
    elif wanted("m3"):
        print("Redis not reachable: M3 skipped")
    if _up(4222) and wanted("nats"):
        oursn, rawn = await interleaved(
            rounds, lambda: ours_e2e(NATS, n, many=True), lambda: nats_raw_e2e(n)
        )
        line("NATS JetStream e2e", oursn, rawn, "nats-py", 0.8)
    elif wanted("nats"):
        print("NATS not reachable: NATS path skipped")
    if _up(5432) and _up(5672) and wanted("outbox"):
        await outbox_relay(min(n, 1000))  # warm-up
        results = [await outbox_relay(n) for _ in range(rounds)]
        line(
            "O outbox relay (PostgreSQL -> RabbitMQ)",
            [r[0] for r in results],
            [r[1] for r in results],
            "publish_many",
            0.8,
        )
    elif wanted("outbox"):
        print("PostgreSQL or RabbitMQ not reachable: outbox path skipped")


if __name__ == "__main__":
    asyncio.run(main())
