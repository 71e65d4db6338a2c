"""The NATS client's header parse: the same dict as nats-py's, cheaper per message."""

from __future__ import annotations

from typing import Any

import pytest
from maestro_core_messaging import MessageBroker
from maestro_core_messaging._nats import _Client
from maestro_testkit import unique_name
from nats.aio.client import Client

_BLOCKS = [
    b"",
    b"\r\n",
    b"ce_specversion: 1.0\r\nce_id: 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\r\nce_source: bench\r\n"
    b"ce_type: a.events\r\nce_time: 2026-12-05T01:02:03.456789Z\r\n"
    b"content-type: application/json\r\nNats-Msg-Id: 0193a1b2\r\n\r\n",
    b"Name:Value\r\nTabbed:\tvalue \t\r\n  Spaced  :  both  \r\n",
    b"no colon here\r\n:empty name\r\nkey: a:b:c\r\nkey: again\r\n",
    b"bad name: x\r\nbad\tname: y\r\nbad\x1cname: z\r\nok: \xff\xfe broken utf-8\r\n",
    "caf\u00e9: non-ascii name\r\nvalue: caf\u00e9 \u2603\r\n".encode(),
    b"Status: 503\r\nDescription: No Responders\r\n\r\ntrailing\r\n",
]


@pytest.mark.parametrize("raw", _BLOCKS)
def test_header_parse_is_nats_pys(raw: bytes) -> None:
    """Every header block parses to exactly what nats-py's own parser returns."""
    assert _Client._parse_header_lines(raw) == Client._parse_header_lines(raw)


async def test_the_backend_connects_with_the_client(nats_url: str) -> None:
    """The backend's connection is that client, and headers round-trip through it."""
    topic = unique_name("hdr").replace("-", "_").replace(".", "_") + ".events"
    broker = MessageBroker.from_url(nats_url)
    got: list[Any] = []

    @broker.subscriber(topic, group="g")
    async def handle(payload: dict[str, Any], message: Any) -> None:
        got.append((payload, message.event.extensions.get("requestid"), message.event.subject))

    try:
        async with broker:
            assert isinstance(broker._backend.nc, _Client)  # type: ignore[union-attr]
            await broker.publish(topic, {"a": 1}, headers={"Request-Id": "r-\u00e9"}, key="k")
            await broker.join(timeout=20)
    finally:
        await broker.delete_topic(topic, ["g"])
        await broker.disconnect()
    assert got == [({"a": 1}, "r-\u00e9", "k")]
