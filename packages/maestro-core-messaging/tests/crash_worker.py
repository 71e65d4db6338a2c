"""A consumer process for the crash tests: records every handled event id, then acks.

Usage: python crash_worker.py URL TOPIC GROUP OUTFILE [hang]   (env CRASH_WORKER_SECONDS)
With "hang" every handler records its id and then never returns (to be killed mid-handler).
Prints "ready" once consuming; runs until killed or SIGTERM (then drains).
"""

from __future__ import annotations

import asyncio
import os
import sys

from maestro_core_messaging import Message, MessageBroker


def main() -> None:
    """Serve one subscriber that appends each event id to OUTFILE before acknowledging."""
    url, topic, group, outfile = sys.argv[1:5]
    hang = sys.argv[5:] == ["hang"]
    # Seconds each handler works: long enough that the test can kill the consumer mid-batch
    # however loaded the machine is (the test sets it; 8 handlers run at once).
    work = float(os.environ.get("CRASH_WORKER_SECONDS", "0.001"))
    broker = MessageBroker.from_url(url, reclaim_idle=0.5, prefetch=20, drain_timeout=5)
    fd = os.open(outfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @broker.subscriber(topic, group=group, concurrency=8, max_deliveries=1 if hang else 5)
    async def handle(n: int, message: Message) -> None:
        if hang:
            os.write(fd, f"{message.id} {message.delivery_count}\n".encode())
            await asyncio.Event().wait()
        await asyncio.sleep(work)
        os.write(fd, f"{message.id} {message.delivery_count}\n".encode())

    broker.run(on_ready=lambda: print("ready", flush=True))


if __name__ == "__main__":
    main()
