"""The same code at scale: PostgreSQL, Redis and RabbitMQ (and the consumer path on NATS),
two uvicorn processes sharing them, configured by the environment alone.

Each run uses a throwaway database, a unique Redis key prefix and unique topic names, and
removes them afterwards. Process A reaches PostgreSQL through a TCP proxy the last test cuts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from maestro_cache import CacheService
from maestro_core_messaging import MessageBroker
from maestro_testkit import require_service, unique_name

from .conftest import ADMIN, CLERK, Pricing, Process, Secrets, service_env, wait_until

pytestmark = [pytest.mark.service, pytest.mark.slow]


class TCPProxy:
    """Forwards 127.0.0.1:<port> to a server until ``cut()`` drops every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target)
            except OSError:
                return
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                s.close()

    def cut(self) -> None:
        self.open = False
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@dataclass
class Pair:
    """Two replicas of the service on shared engines."""

    a: Process
    b: Process
    secrets: Secrets
    db_password: str
    topic: str
    proxy: TCPProxy

    def token(self, process: Process, user: str = CLERK) -> dict[str, str]:
        answer = httpx.post(
            process.url + "/auth/token",
            json={"username": user, "password": self.secrets.password(user)},
            timeout=10,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def auth(self, process: Process, user: str = CLERK) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(process, user)['access_token']}"}

    def metric(self, process: Process, name: str) -> float:
        text = httpx.get(process.url + "/metrics", timeout=5).text
        found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0


def _pair(
    home: Path, postgres_url: str, redis_url: str, broker_url: str, pricing_url: str
) -> Iterator[Pair]:
    name = unique_name("orders")
    admin = urlsplit(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    proxy = TCPProxy((admin.hostname or "127.0.0.1", admin.port or 5432))
    password = "pg-" + secrets.token_urlsafe(12)  # trust auth ignores it; logs must not show it
    found = Secrets.write(home / "secrets")
    topic = f"{name}.created"
    common = {
        "MAESTRO_ENVIRONMENT": "production",
        "MAESTRO_CACHE__URL": redis_url,
        "MAESTRO_CACHE__KEY_PREFIX": name,
        "MAESTRO_BROKER__URL": broker_url,
        "MAESTRO_BROKER__BACKOFF": "[0.1]",
        "MAESTRO_TOPIC": topic,
        "MAESTRO_PRICING__URL": pricing_url,
        "MAESTRO_AUDIT__DIRECTORY": str(home / "audit"),
        "MAESTRO_RATE_LIMIT": "1000/minute",
    }
    user = admin.username or "postgres"
    url = f"postgresql://{user}:{password}@127.0.0.1:{{port}}/{name}"
    a_env = service_env(found, MAESTRO_DB__URL=url.format(port=proxy.port), **common)
    b_env = service_env(found, MAESTRO_DB__URL=url.format(port=admin.port or 5432), **common)
    a = Process("reference_service.app:app", a_env, home / "a.log", cwd=home)
    b = Process("reference_service.app:app", b_env, home / "b.log", cwd=home)
    try:
        for process in (a, b):
            process.wait_ready("/readyz", timeout=60)
        yield Pair(a, b, found, password, topic, proxy)
    finally:
        for process in (a, b):
            process.stop()
        proxy.cut()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        asyncio.run(_forget(redis_url, name, broker_url, topic))


async def _forget(redis_url: str, prefix: str, broker_url: str, topic: str) -> None:
    async with CacheService(redis_url, key_prefix=prefix) as cache:
        await cache.clear()
    async with MessageBroker.from_url(broker_url) as broker:
        await broker.delete_topic(topic, ["fulfilment"])


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory: pytest.TempPathFactory, pricing_stub: Pricing) -> Iterator[Pair]:
    pg, redis, mq = (require_service(n).url for n in ("postgres", "redis", "rabbitmq"))
    yield from _pair(tmp_path_factory.mktemp("rabbit"), pg, redis, mq, pricing_stub.url)


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory, pricing_stub: Pricing) -> Iterator[Pair]:
    pg, redis, js = (require_service(n).url for n in ("postgres", "redis", "nats"))
    yield from _pair(tmp_path_factory.mktemp("nats"), pg, redis, js, pricing_stub.url)


def _migration_runs(pair: Pair) -> int:
    return sum(p.output().count("Running upgrade") for p in (pair.a, pair.b))


def test_two_replicas_start_together_and_one_runs_the_migrations(rabbit: Pair) -> None:
    """Both replicas are ready at head; the upgrade ran in exactly one of them."""
    assert _migration_runs(rabbit) == 1
    for process in (rabbit.a, rabbit.b):
        ready = httpx.get(process.url + "/readyz", timeout=5)
        assert ready.json() == {"status": "pass"}


def test_an_order_confirmed_by_either_replica_is_never_stale_on_the_other(rabbit: Pair) -> None:
    """Created on A, read (and cached) on B, confirmed by the group: B shows `confirmed`."""
    auth = rabbit.auth(rabbit.a)
    created = httpx.post(
        rabbit.a.url + "/orders", json={"sku": "S-1", "quantity": 3}, headers=auth, timeout=10
    )
    assert created.status_code == 201, created.text
    location = rabbit.b.url + created.headers["location"]
    assert httpx.get(location, headers=auth, timeout=5).status_code == 200

    def confirmed_everywhere() -> bool:
        return all(
            httpx.get(p.url + created.headers["location"], headers=auth, timeout=5).json()["status"]
            == "confirmed"
            for p in (rabbit.a, rabbit.b)
        )

    wait_until(confirmed_everywhere, 10, "both replicas to show the order confirmed")


def test_a_refresh_token_issued_by_one_replica_rotates_on_the_other(rabbit: Pair) -> None:
    """Refresh families live in Redis: A issues, B rotates, a replay on A revokes the family."""
    tokens = rabbit.token(rabbit.a, ADMIN)
    rotated = httpx.post(
        rabbit.b.url + "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=5
    )
    assert rotated.status_code == 200
    replay = httpx.post(
        rabbit.a.url + "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=5
    )
    assert replay.status_code == 401


def _competing(pair: Pair, n: int = 6) -> None:
    auth = pair.auth(pair.a)
    before = sum(pair.metric(p, "maestro_messaging_acked_total") for p in (pair.a, pair.b))
    ids = []
    for i in range(n):
        target = (pair.a, pair.b)[i % 2]
        answer = httpx.post(
            target.url + "/orders", json={"sku": f"C-{i}", "quantity": 1}, headers=auth, timeout=10
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])

    def all_confirmed() -> bool:
        return all(
            httpx.get(f"{pair.b.url}/orders/{i}", headers=auth, timeout=5).json()["status"]
            == "confirmed"
            for i in ids
        )

    wait_until(all_confirmed, 20, f"{n} orders to be confirmed")
    acked = sum(pair.metric(p, "maestro_messaging_acked_total") for p in (pair.a, pair.b))
    assert acked - before == n  # competing members of one group: each event handled once


def test_the_fulfilment_group_competes_on_rabbitmq(rabbit: Pair) -> None:
    """Orders created on both replicas are each confirmed once by the `fulfilment` group."""
    _competing(rabbit)


def test_the_fulfilment_group_competes_on_nats(nats: Pair) -> None:
    """The same consumer path on NATS JetStream, configured by MAESTRO_BROKER__URL alone."""
    assert _migration_runs(nats) == 1
    _competing(nats)


def test_json_logs_carry_request_ids_and_no_secret(rabbit: Pair) -> None:
    """Production logs are JSON lines; no token, password or DB password in any of them."""
    tokens = rabbit.token(rabbit.b)
    httpx.get(
        rabbit.b.url + "/orders",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "X-Request-ID": "scale-1"},
        timeout=5,
    )
    # the access line is written after the answer is sent: wait for it to reach the file
    wait_until(lambda: "scale-1" in rabbit.b.output(), 10, "the access line of request scale-1")
    text = rabbit.a.output() + rabbit.b.output()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines
    assert not [line for line in text.splitlines() if line and not line.startswith("{")]
    for secret in [
        rabbit.db_password,
        tokens["access_token"],
        tokens["refresh_token"],
        *rabbit.secrets.values.values(),
    ]:
        assert secret not in text
    access = [line for line in lines if line.get("logger") == "maestro.access"]
    assert "scale-1" in {line["request_id"] for line in access}
    assert all(line.get("request_id") for line in access)


def test_readiness_fails_when_the_database_goes_away_and_liveness_holds(rabbit: Pair) -> None:
    """The proxy to PostgreSQL is cut: A's /readyz turns 503, its /livez stays 200 (runs last)."""
    rabbit.proxy.cut()

    def not_ready() -> bool:
        return httpx.get(rabbit.a.url + "/readyz", timeout=10).status_code == 503

    wait_until(not_ready, 15, "/readyz to fail without the database")
    assert httpx.get(rabbit.a.url + "/livez", timeout=5).status_code == 200
    assert httpx.get(rabbit.b.url + "/readyz", timeout=10).status_code == 200
