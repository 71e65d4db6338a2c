"""create_app from settings (duck-typed) and the original MaestroAPI(APIConfig) form."""

from __future__ import annotations

import secrets

import pytest
from fastapi import APIRouter, FastAPI
from maestro_core_api import APIConfig, MaestroAPI, create_app
from maestro_core_config import (
    HTTPSettings,
    LoggingSettings,
    MaestroSettings,
    MaestroSettingsConfigDict,
    ServiceSettings,
)
from maestro_core_logging import current_config

from .conftest import serve


class Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None, config_dir=None, env_file=None)

    service: ServiceSettings = ServiceSettings(name="orders")
    http: HTTPSettings = HTTPSettings()
    logging: LoggingSettings = LoggingSettings()


async def test_create_app_reads_the_settings_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    """service, http, logging and environment feed the app; keywords override them."""
    secret = secrets.token_urlsafe(24)
    monkeypatch.setenv("MAESTRO_SERVICE__VERSION", "1.4.2")
    monkeypatch.setenv("MAESTRO_SERVICE__INSTANCE_ID", "orders-0")
    monkeypatch.setenv("MAESTRO_HTTP__CORS_ORIGINS", '["https://shop.example"]')
    monkeypatch.setenv("MAESTRO_HTTP__MAX_BODY_BYTES", "10")
    monkeypatch.setenv("MAESTRO_HTTP__CURSOR_SECRET", secret)
    monkeypatch.setenv("MAESTRO_HTTP__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("MAESTRO_LOGGING__FORMAT", "json")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "production")
    settings = Settings()
    app = create_app(settings=settings)
    assert isinstance(app, FastAPI)
    assert (app.title, app.version) == ("orders", "1.4.2")
    state = app.state.maestro
    assert state.instance_id == "orders-0"
    assert state.cursor_secret == secret.encode()
    assert secret not in repr(state)
    assert "CORSMiddleware" in state.middleware
    assert current_config() is not None
    async with serve(app, client=("10.0.0.1", 1)) as client:
        too_big = await client.post("/anything", content=b"x" * 11)
        docs = await client.get("/docs")
        health = await client.get("/livez?verbose", headers={"X-Forwarded-For": "127.0.0.1"})
    assert too_big.status_code == 413
    assert docs.status_code == 404  # production: no docs
    assert health.json()["serviceId"] == "orders/orders-0"
    shown = create_app(settings=settings, docs=True, title="other")
    assert shown.title == "other"
    assert shown.docs_url == "/docs"


def test_create_app_hands_the_whole_logging_section_to_core_logging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """extra_redact_keys, debug_sample_rate and level from MAESTRO_LOGGING__* all take effect."""
    monkeypatch.setenv("MAESTRO_LOGGING__EXTRA_REDACT_KEYS", '["card_number"]')
    monkeypatch.setenv("MAESTRO_LOGGING__DEBUG_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("MAESTRO_LOGGING__LEVEL", "WARNING")
    create_app(settings=Settings())
    config = current_config()
    assert config is not None
    assert "card_number" in config.redact_keys
    assert "password" in config.redact_keys  # added to the defaults, not replacing them
    assert config.debug_sample_rate == 0.25
    assert config.level_name == "warning"


async def test_maestro_api_original_form() -> None:
    """MaestroAPI(APIConfig) delegates route decorators and exposes the FastAPI app."""
    api = MaestroAPI(APIConfig(title="Orders API", service_name="orders", version="1.0.0"))

    @api.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    @api.post("/echo")
    async def echo(value: int) -> int:
        return value

    router = APIRouter()

    @router.delete("/items/{item_id}")
    async def remove(item_id: int) -> int:
        return item_id

    api.include_router(router, prefix="/v1")
    api.health.register_check("self", lambda: True)
    async with serve(api.app) as client:
        assert (await client.get("/ping")).json() == {"pong": "ok"}
        assert (await client.post("/echo", params={"value": 3})).json() == 3
        assert (await client.delete("/v1/items/5")).json() == 5
        assert (await client.get("/health")).json() == {"status": "pass"}
        assert (await client.get("/docs")).status_code == 200
    assert api.app.state.maestro.service == "orders"
    assert "orders" in repr(api)


def test_maestro_api_from_settings() -> None:
    """MaestroAPI.from_settings takes the HTTP section (plus service) by duck typing."""
    api = MaestroAPI.from_settings(
        HTTPSettings(port=9001, request_timeout=2.5),
        service=ServiceSettings(name="billing", version="2.0.0"),
    )
    assert (api.config.port, api.app.title, api.app.version) == (9001, "billing", "2.0.0")
    assert api.app.state.maestro.service == "billing"


def test_production_config_hides_docs_and_run_needs_import_string_for_reload() -> None:
    """environment='production' turns docs off; run(reload=True) asks for an import string."""
    api = MaestroAPI(APIConfig(environment="production"))
    assert api.app.docs_url is None
    assert api.app.openapi_url is None
    with pytest.raises(ValueError, match="import string"):
        api.run(reload=True)


def test_security_config_is_a_deprecated_no_op() -> None:
    """The original's security= is accepted with a DeprecationWarning naming auth=."""
    with pytest.warns(DeprecationWarning, match="auth="):
        config = APIConfig(security={"secret_key": "ignored"})
    assert "secret_key" not in repr(config)
    assert MaestroAPI(APIConfig()).config.security is None
