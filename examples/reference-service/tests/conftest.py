"""Fixtures of the orders service's tests: real components only, nothing mocked.

``pricing``: the pricing stub in its own uvicorn process (one per session, mode reset per
test). ``make_settings``: the service's ``Settings`` from ``config/`` plus a secrets
directory written for the test (the secrets never come from a file in the repository).
``orders``: the app in process (lifespan run) with an httpx client and login helpers.
``server``: the service itself in a uvicorn process, for the browser and contract tests.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from maestro_core_logging import reset_logging
from maestro_testkit import free_port
from reference_service.app import create_app
from reference_service.services import Services
from reference_service.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1]
CONFIG = EXAMPLE / "config"
CLERK, ADMIN = "ann", "ada"


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true, failing with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


async def await_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """The async twin: ``check`` is a coroutine function; returns its first truthy result."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class Process:
    """A uvicorn process serving ``target``; its output is kept in a file for the tests."""

    def __init__(self, target: str, env: dict[str, str], log: Path, cwd: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, "-m", "uvicorn", target, "--port", str(self.port)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--no-access-log", "--log-level", "warning"],
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
            )

    def wait_ready(self, path: str = "/openapi.json", timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.url} exited:\n{self.output()}")
            try:
                return httpx.get(self.url + path, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, f"{self.url}{path}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Pricing:
    """The running pricing stub; ``mode()`` switches its failure mode."""

    url: str

    def mode(self, mode: str, **options: float) -> None:
        params = {"mode": mode, **{k: str(v) for k, v in options.items()}}
        httpx.post(self.url + "/mode", params=params, timeout=5).raise_for_status()

    def calls(self) -> int:
        return int(httpx.get(self.url + "/mode", timeout=5).json()["calls"])


@pytest.fixture(scope="session")
def pricing_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pricing]:
    server = Process("reference_service.pricing_stub:app", {}, tmp_path_factory.mktemp("p") / "log")
    try:
        server.wait_ready()
        yield Pricing(server.url)
    finally:
        server.stop()


@pytest.fixture
def pricing(pricing_stub: Pricing) -> Iterator[Pricing]:
    pricing_stub.mode("ok")
    yield pricing_stub
    pricing_stub.mode("ok")


@dataclass
class Secrets:
    """This test's secrets, written to a secrets directory as a deployment would mount them."""

    directory: Path
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def write(cls, directory: Path) -> Secrets:
        directory.mkdir(parents=True, exist_ok=True)
        values = {
            "auth__hmac_secret": secrets.token_urlsafe(48),
            "http__cursor_secret": secrets.token_urlsafe(32),
            "users__clerk_password": "clerk-" + secrets.token_urlsafe(12),
            "users__admin_password": "admin-" + secrets.token_urlsafe(12),
        }
        for name, value in values.items():
            (directory / name).write_text(value)
        return cls(directory, values)

    def password(self, user: str) -> str:
        return self.values["users__clerk_password" if user == CLERK else "users__admin_password"]


@pytest.fixture
def test_secrets(tmp_path: Path) -> Secrets:
    return Secrets.write(tmp_path / "secrets")


@pytest.fixture
def make_settings(
    tmp_path: Path, test_secrets: Secrets, pricing_stub: Pricing
) -> Callable[..., Settings]:
    """Settings as the embedded run reads them, with this test's files and secrets."""

    def build(**values: Any) -> Settings:
        values.setdefault("db", {"url": f"sqlite:///{tmp_path / 'orders.db'}"})
        values.setdefault("audit", {"directory": str(tmp_path / "audit")})
        values.setdefault("pricing", {"url": pricing_stub.url, "retry_delay": 0.01})
        values.setdefault("broker", {"url": "memory://", "backoff": [0.05], "max_deliveries": 3})
        return Settings.load(config_dir=CONFIG, secrets_dir=test_secrets.directory, **values)

    return build


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test configures logging from its own settings."""
    reset_logging()
    yield
    reset_logging()


@dataclass
class Orders:
    """The app in process: its client, its services, and helpers to log in."""

    client: httpx.AsyncClient
    svc: Services
    secrets: Secrets

    async def login(self, user: str = CLERK) -> dict[str, Any]:
        answer = await self.client.post(
            "/auth/token", json={"username": user, "password": self.secrets.password(user)}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def bearer(self, user: str = CLERK) -> dict[str, str]:
        return {"Authorization": f"Bearer {(await self.login(user))['access_token']}"}


@pytest.fixture
def orders_factory(
    make_settings: Callable[..., Settings], test_secrets: Secrets
) -> Callable[..., Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(**values: Any) -> AsyncIterator[Orders]:
        app = create_app(make_settings(**values))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://orders") as client,
        ):
            yield Orders(client, app.state.services, test_secrets)

    return start


@pytest.fixture
async def orders(orders_factory: Callable[..., Any]) -> AsyncIterator[Orders]:
    async with orders_factory() as running:
        yield running


@dataclass
class Served:
    """The service in its own uvicorn process (embedded engines), and how to log in."""

    process: Process
    secrets: Secrets
    pricing: Pricing

    @property
    def url(self) -> str:
        return self.process.url

    def token(self, user: str = CLERK) -> str:
        answer = httpx.post(
            self.url + "/auth/token",
            json={"username": user, "password": self.secrets.password(user)},
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


def service_env(secrets_: Secrets, **values: str) -> dict[str, str]:
    """The environment of a service process: its secrets as a deployment would inject them."""
    env = {f"MAESTRO_{name.upper()}": value for name, value in secrets_.values.items()}
    env.update({"MAESTRO_CONFIG_DIR": str(CONFIG), **values})
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pricing_stub: Pricing) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("served")
    found = Secrets.write(home / "secrets")
    env = service_env(
        found,
        MAESTRO_DB__URL=f"sqlite:///{home / 'orders.db'}",
        MAESTRO_AUDIT__DIRECTORY=str(home / "audit"),
        MAESTRO_PRICING__URL=pricing_stub.url,
        MAESTRO_RATE_LIMIT="1000/minute",
    )
    process = Process("reference_service.app:app", env, home / "service.log", cwd=home)
    try:
        process.wait_ready("/readyz")
        yield Served(process, found, pricing_stub)
    finally:
        process.stop()
