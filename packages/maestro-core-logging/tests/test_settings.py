"""The family conventions: MAESTRO_<SECTION>__<FIELD> names, settings=, levels kept."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest
from maestro_core_logging import _config

if TYPE_CHECKING:
    from .conftest import Output


@dataclass(frozen=True)
class _Section:
    """A stand-in with the fields of maestro-core-config's LoggingSettings."""

    level: str = "WARNING"
    format: str = "json"
    extra_redact_keys: tuple[str, ...] = ("pin",)
    debug_sample_rate: float = 0.25


def test_settings_section_configures_logging(output: Output) -> None:
    """configure_logging(settings=section) takes level, format, extra keys and sample rate."""
    config = mcl.configure_logging(settings=_Section(), service="orders", stream=output.stream)
    assert config.level == logging.WARNING
    assert config.format == "json"
    assert config.debug_sample_rate == 0.25
    assert {"pin", "password"} <= config.redact_keys  # added to the defaults


def test_keywords_win_over_the_settings_section(output: Output) -> None:
    """A keyword given beside settings= overrides the section's value."""
    config = mcl.configure_logging(settings=_Section(), level="debug", stream=output.stream)
    assert config.level == logging.DEBUG


def test_a_non_section_is_refused() -> None:
    """settings= must carry LoggingSettings' fields: the error says what to pass."""
    with pytest.raises(mcl.ConfigurationError, match=r"settings=s\.logging"):
        mcl.configure_logging(settings=object(), stream=io.StringIO())


def test_core_config_section_round_trips(output: Output) -> None:
    """configure_logging(**LoggingSettings().model_dump()) works and keeps the default keys."""
    core_config = pytest.importorskip("maestro_core_config")
    section = core_config.LoggingSettings(level="ERROR", extra_redact_keys=("pin",))
    config = mcl.configure_logging(**section.model_dump(), stream=output.stream)
    assert config.level == logging.ERROR
    assert {"pin", "password"} <= config.redact_keys
    again = mcl.configure_logging(settings=section, stream=output.stream)
    assert again.redact_keys == config.redact_keys


def test_core_config_environment_names_are_read(
    monkeypatch: pytest.MonkeyPatch, output: Output
) -> None:
    """MAESTRO_SERVICE__NAME (core-config's spelling) stamps the service, no longer 'unknown'."""
    monkeypatch.setenv("MAESTRO_SERVICE__NAME", "orders")
    monkeypatch.setenv("MAESTRO_LOGGING__LEVEL", "warning")
    config = mcl.configure_logging(stream=output.stream)
    assert config.service == "orders"
    assert config.level == logging.WARNING


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [
        ("MAESTRO_SERVICE_NAME", "MAESTRO_SERVICE__NAME", "billing"),
        ("MAESTRO_LOG_LEVEL", "MAESTRO_LOGGING__LEVEL", "error"),
        ("MAESTRO_LOG_FORMAT", "MAESTRO_LOGGING__FORMAT", "json"),
        ("MAESTRO_SERVICE_VERSION", "MAESTRO_SERVICE__VERSION", "2.0"),
    ],
)
def test_old_environment_names_still_work_and_warn_once(
    monkeypatch: pytest.MonkeyPatch, output: Output, old: str, new: str, value: str
) -> None:
    """A 1.0 variable name is still read, with one DeprecationWarning naming the new one."""
    monkeypatch.setattr(_config, "_WARNED", set())
    monkeypatch.setenv(old, value)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated.*use {new}"):
        config = mcl.configure_logging(stream=output.stream)
    assert value in (config.service, config.level_name, config.format, config.version)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mcl.reset_logging()
        mcl.configure_logging(stream=output.stream)  # the second read does not warn


def test_the_new_name_wins_over_the_old_one(
    monkeypatch: pytest.MonkeyPatch, output: Output
) -> None:
    """With both spellings set the new one is used and nothing warns."""
    monkeypatch.setenv("MAESTRO_SERVICE_NAME", "old")
    monkeypatch.setenv("MAESTRO_SERVICE__NAME", "new")
    assert mcl.configure_logging(stream=output.stream).service == "new"


def test_a_second_configure_keeps_the_levels_of_the_first(
    configure: Callable[..., Output],
) -> None:
    """A later configure_logging without a level keeps the first one's level and logger levels."""
    configure(level="debug", logger_levels={"httpx": "warning"})
    configure(service="other", logger_levels={"sqlalchemy": "error"})
    config = mcl.current_config()
    assert config is not None
    assert config.level == logging.DEBUG
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("sqlalchemy").level == logging.ERROR
    assert dict(config.logger_levels) == {"httpx": logging.WARNING, "sqlalchemy": logging.ERROR}


def test_bad_debug_sample_rate_is_a_configuration_error() -> None:
    """debug_sample_rate outside [0, 1] is refused, naming the parameter."""
    with pytest.raises(mcl.ConfigurationError, match="debug_sample_rate"):
        mcl.configure_logging(debug_sample_rate=1.5, stream=io.StringIO())


def test_logger_levels_apply_to_get_logger_loggers(configure: Callable[..., Output]) -> None:
    """logger_levels quiets or opens get_logger() loggers by name prefix, like stdlib ones."""
    out = configure(level="info", logger_levels={"noisy": "warning", "app.db": "debug"})
    mcl.get_logger("noisy.client").info("hidden")
    mcl.get_logger("noisy.client").warning("shown warning")
    mcl.get_logger("app.db.pool").debug("shown debug")
    mcl.get_logger("app.web").debug("hidden debug")
    mcl.get_logger("app.web").info("shown info")
    assert [line["message"] for line in out.lines()] == [
        "shown warning",
        "shown debug",
        "shown info",
    ]
