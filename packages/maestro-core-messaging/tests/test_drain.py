"""SIGTERM with 50 messages in flight: no new deliveries, handlers finish and ack, exit code 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis.asyncio as aioredis
from maestro_core_messaging import MessageBroker
from maestro_testkit import unique_name

WORKER = """
import asyncio, os, sys
from maestro_core_messaging import Message, MessageBroker
url, topic, out = sys.argv[1:4]
broker = MessageBroker.from_url(url, prefetch=50, drain_timeout=10, reclaim_idle=30)
fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

@broker.subscriber(topic, group="drain", concurrency=50)
async def handle(n: int, message: Message) -> None:
    os.write(fd, b"start\\n")
    await asyncio.sleep(0.3)
    os.write(fd, b"done\\n")

broker.run(on_ready=lambda: print("ready", flush=True))
"""


def _count(path: Path, word: str) -> int:
    return path.read_text().count(word) if path.exists() else 0


async def test_sigterm_drains_in_flight_handlers(redis_url: str, tmp_path: Path) -> None:
    """SIGTERM during 50 running handlers: all finish and ack, nothing stays pending, exit 0."""
    topic = unique_name("drain").replace("-", "_") + ".jobs"
    out = tmp_path / "log.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, redis_url, topic, str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    broker = MessageBroker.from_url(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        await broker.publish_many(topic, range(50))
        deadline = time.monotonic() + 20
        while _count(out, "start") < 50:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        proc.stdout.close()
        log = out.read_text()
        assert log.count("start") == log.count("done") == 50  # every handler finished
        pending = await client.xpending(topic, "drain")
        assert pending["pending"] == 0  # and acked before the process exited
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await broker.delete_topic(topic, ["drain"])
        await broker.disconnect()
        await client.aclose()
