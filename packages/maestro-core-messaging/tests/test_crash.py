"""A consumer SIGKILLed mid-batch loses nothing: another consumer gets every unacked message."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from maestro_core_messaging import MessageBroker
from maestro_testkit import unique_name

WORKER = Path(__file__).with_name("crash_worker.py")
pytestmark = pytest.mark.parametrize("backend", ["redis", "rabbitmq", "nats"], indirect=True)


def _start(
    url: str, topic: str, group: str, out: Path, *extra: str, work: float = 0.001
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), url, topic, group, str(out), *extra],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRASH_WORKER_SECONDS": str(work)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _lines(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


async def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _crash_run(
    broker_url: str, topic: str, tmp_path: Path, count: int, work: float = 0.001
) -> None:
    group = "crash"
    out = tmp_path / "handled.txt"
    broker = MessageBroker.from_url(broker_url, source="crash-test")
    try:
        first = _start(broker_url, topic, group, out, work=work)  # creates the group
        ids = set(await broker.publish_many(topic, range(count)))
        await _wait_for(lambda: len(_lines(out)) >= count // 5, 60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert first.stdout is not None
        first.stdout.close()
        killed_at = len(_lines(out))
        assert killed_at < count, "the first consumer finished before it could be killed"
        second = _start(broker_url, topic, group, out)
        try:
            await _wait_for(lambda: ids <= {ln.split()[0] for ln in _lines(out)}, 120)
        finally:
            second.send_signal(signal.SIGTERM)
            code = second.wait(timeout=30)
            assert second.stdout is not None
            second.stdout.close()
        assert code == 0  # drained and exited cleanly on SIGTERM
        handled = [ln.split()[0] for ln in _lines(out)]
        assert set(handled) == ids  # nothing lost
        duplicates = len(handled) - len(set(handled))
        assert duplicates <= 8 + 20  # at most what the killed consumer held (concurrency+prefetch)
        redelivered = [ln for ln in _lines(out)[killed_at:] if not ln.endswith(" 1")]
        assert len(redelivered) >= duplicates  # duplicates come with a broker-counted redelivery
    finally:
        await broker.delete_topic(topic, [group])
        await broker.disconnect()


async def test_sigkill_mid_batch_loses_nothing(
    broker_url: str, backend: str, tmp_path: Path
) -> None:
    """A consumer killed with SIGKILL mid-batch: all 300 messages are handled, by the next one."""
    # 50 ms per message, 8 at a time: the batch takes about 2 s, the kill comes after 60.
    topic = unique_name("crash").replace("-", "_") + ".jobs"
    await _crash_run(broker_url, topic, tmp_path, 300, work=0.05)


@pytest.mark.slow
async def test_sigkill_mid_batch_loses_nothing_of_10000(
    broker_url: str, backend: str, tmp_path: Path
) -> None:
    """The issue's size: 10,000 messages, a consumer SIGKILLed mid-batch, 0 lost."""
    topic = unique_name("crash").replace("-", "_") + ".jobs"
    await _crash_run(broker_url, topic, tmp_path, 10_000, work=0.004)


async def test_a_worker_killed_on_the_last_delivery_cannot_loop(
    broker_url: str, backend: str, tmp_path: Path
) -> None:
    """SIGKILL during the last allowed delivery: the count survives; it is dead-lettered."""
    topic = unique_name("last").replace("-", "_") + ".jobs"
    out = tmp_path / "handled.txt"
    broker = MessageBroker.from_url(broker_url, reclaim_idle=0.5)
    ran: list[int] = []

    @broker.subscriber(topic, group="last", max_deliveries=1)
    async def handle(n: int) -> None:
        ran.append(n)

    try:
        worker = _start(broker_url, topic, "last", out, "hang")
        event_id = await broker.publish(topic, 1)
        await _wait_for(lambda: len(_lines(out)) == 1, 30)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        assert worker.stdout is not None
        worker.stdout.close()
        async with broker:
            deadline = time.monotonic() + 30
            while not (dead := await broker.dead_letters(topic, "last")):
                assert time.monotonic() < deadline, "never dead-lettered"
                await asyncio.sleep(0.05)
        assert ran == []  # not run a second time
        assert [d.id for d in dead] == [event_id]
        assert dead[0].extensions["deadletterreason"] == "max_deliveries"
        assert dead[0].extensions["deliverycount"] == "2"
    finally:
        await broker.delete_topic(topic, ["last"])
        await broker.disconnect()
