"""configure_logging(), get_logger() before and after it, and bad input."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest
from maestro_core_logging._stdlib import RoutingHandler

if TYPE_CHECKING:
    from .conftest import Output


class FakeTTY(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_configure_returns_effective_configuration(configure: Callable[..., Output]) -> None:
    """configure_logging returns the effective configuration with the level parsed."""
    configure(level="WARNING", environment="staging", version="2.0.1")
    config = mcl.current_config()
    assert config is not None
    assert config.service == "svc"
    assert config.level == logging.WARNING
    assert config.level_name == "warning"
    assert config.environment == "staging"
    assert config.version == "2.0.1"
    assert config.format == "json"


def test_json_line_carries_service_fields(configure: Callable[..., Output]) -> None:
    """A JSON line holds timestamp, level, logger, message, service, environment and version."""
    out = configure(environment="production", version="1.4.2")
    mcl.get_logger("orders.api").info("order placed", order_id=42)
    (line,) = out.lines()
    assert list(line)[:7] == [
        "timestamp",
        "level",
        "logger",
        "message",
        "service",
        "environment",
        "version",
    ]
    assert line["level"] == "info"
    assert line["logger"] == "orders.api"
    assert line["message"] == "order placed"
    assert (line["service"], line["environment"], line["version"]) == (
        "svc",
        "production",
        "1.4.2",
    )
    assert line["order_id"] == 42


def test_configure_is_idempotent(configure: Callable[..., Output]) -> None:
    """Calling configure_logging twice with the same arguments adds no second handler."""
    out = configure()
    configure()
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, RoutingHandler)]
    assert len(handlers) == 1
    logging.getLogger("app").warning("once")
    assert [line["message"] for line in out.lines()] == ["once"]


def test_reconfigure_reaches_existing_loggers(configure: Callable[..., Output]) -> None:
    """A logger created before a reconfiguration follows the new level and fields."""
    log = mcl.get_logger("early")
    out = configure(level="info")
    log.debug("hidden")
    configure(level="debug", environment="test")
    log.debug("shown")
    (line,) = out.lines()
    assert line["message"] == "shown"
    assert line["environment"] == "test"


def test_get_logger_before_configure_uses_defaults(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """get_logger works before configure_logging and logs JSON to stdout with defaults."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    log = mcl.get_logger("early")
    log.info("before configure", n=1)
    text = stream.getvalue()
    assert '"message":"before configure"' in text
    assert '"service":"unknown"' in text
    config = mcl.current_config()
    assert config is not None
    assert config.stdlib is False


def test_get_logger_defaults_to_callers_module() -> None:
    """get_logger() without a name uses the calling module's name."""
    with mcl.capture_logs() as events:
        mcl.get_logger().info("hello")
    assert events[0]["logger"] == __name__


def test_get_logger_never_raises_on_bad_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad MAESTRO_LOGGING__LEVEL does not break get_logger: defaults apply, a warning says so."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("MAESTRO_LOGGING__LEVEL", "loud")
    mcl.get_logger("x").info("still logged")
    text = stream.getvalue()
    assert "logging environment variables ignored" in text
    assert "loud" in text
    assert "still logged" in text


def test_unknown_level_names_it_and_lists_valid_levels() -> None:
    """An unknown level raises InvalidLevelError naming the value and the valid levels."""
    with pytest.raises(mcl.InvalidLevelError) as info:
        mcl.configure_logging(service="svc", level="verbose", stream=io.StringIO())
    message = str(info.value)
    assert "'verbose'" in message
    for name in ("debug", "info", "warning", "error", "critical"):
        assert name in message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, mcl.MaestroLoggingError)
    assert mcl.current_config() is None


def test_unknown_numeric_level_is_rejected() -> None:
    """A numeric level that is not a standard one is rejected, as is a bool."""
    with pytest.raises(mcl.InvalidLevelError, match="15"):
        mcl.configure_logging(level=15, stream=io.StringIO())
    with pytest.raises(mcl.InvalidLevelError):
        mcl.configure_logging(level=True, stream=io.StringIO())


def test_numeric_and_mixed_case_levels_are_accepted(configure: Callable[..., Output]) -> None:
    """Levels are accepted as numbers and as names in any case."""
    configure(level=logging.ERROR)
    assert mcl.current_config().level == logging.ERROR  # type: ignore[union-attr]
    configure(level=" Debug ")
    assert mcl.current_config().level == logging.DEBUG  # type: ignore[union-attr]


def test_unknown_format_is_rejected() -> None:
    """An unknown format raises ConfigurationError listing the valid formats."""
    with pytest.raises(mcl.ConfigurationError, match=r"'xml'.*json, console, auto, ecs"):
        mcl.configure_logging(format="xml", stream=io.StringIO())  # type: ignore[arg-type]


def test_bad_logger_level_names_the_logger() -> None:
    """A bad per-logger level names the logger it was given for."""
    with pytest.raises(mcl.InvalidLevelError, match="logger_levels\\['httpx'\\]"):
        mcl.configure_logging(logger_levels={"httpx": "chatty"}, stream=io.StringIO())


def test_redact_keys_as_one_string_is_rejected() -> None:
    """redact_keys given as a single string (a common slip) is an error, not 8 letters."""
    with pytest.raises(mcl.ConfigurationError, match="redact_keys"):
        mcl.configure_logging(redact_keys="password", stream=io.StringIO())


def test_a_path_is_not_a_stream() -> None:
    """A stream without write() (a path string, say) is rejected with a hint."""
    with pytest.raises(mcl.ConfigurationError, match="writable"):
        mcl.configure_logging(stream="/var/log/app.log")  # type: ignore[arg-type]


def test_routed_loggers_as_one_string_is_rejected() -> None:
    """routed_loggers given as a single string is an error, not one logger per letter."""
    with pytest.raises(mcl.ConfigurationError, match="routed_loggers"):
        mcl.configure_logging(routed_loggers="uvicorn", stream=io.StringIO())


def test_binary_streams_are_accepted(configure: Callable[..., Output]) -> None:
    """A binary stream receives UTF-8 encoded lines."""
    stream = io.BytesIO()
    mcl.configure_logging(service="svc", format="json", stream=stream)
    mcl.get_logger("t").info("bytes ✓")
    assert stream.getvalue().decode("utf-8").endswith('"service":"svc"}\n')
    assert "bytes ✓" in stream.getvalue().decode("utf-8")


def test_text_file_keeps_earlier_text_in_order(tmp_path: Path) -> None:
    """A text-mode file gets lines after text written to it earlier, in order."""
    path = tmp_path / "app.log"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("header\n")
        mcl.configure_logging(service="svc", format="json", stream=stream)
        mcl.get_logger("t").info("first")
        mcl.reset_logging()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "header"
    assert '"message":"first"' in lines[1]


def test_environment_variables_fill_unset_arguments(
    monkeypatch: pytest.MonkeyPatch, output: Output
) -> None:
    """MAESTRO_* variables supply what the call leaves out; arguments win over them."""
    monkeypatch.setenv("MAESTRO_SERVICE__NAME", "billing")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "staging")
    monkeypatch.setenv("MAESTRO_SERVICE__VERSION", "3.1.0")
    monkeypatch.setenv("MAESTRO_LOGGING__LEVEL", "error")
    monkeypatch.setenv("MAESTRO_LOGGING__FORMAT", "json")
    config = mcl.configure_logging(stream=output.stream, level="warning")
    assert (config.service, config.environment, config.version) == ("billing", "staging", "3.1.0")
    assert config.level == logging.WARNING
    assert config.format == "json"


def test_bad_level_in_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An invalid MAESTRO_LOGGING__LEVEL makes configure_logging fail naming the variable."""
    monkeypatch.setenv("MAESTRO_LOGGING__LEVEL", "loud")
    with pytest.raises(mcl.InvalidLevelError, match="MAESTRO_LOGGING__LEVEL"):
        mcl.configure_logging(stream=io.StringIO())


def test_auto_format_is_json_off_a_terminal(output: Output) -> None:
    """format="auto" renders JSON on a stream that is not a terminal."""
    config = mcl.configure_logging(format="auto", stream=output.stream)
    assert config.format == "json"


def test_auto_format_is_coloured_console_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """format="auto" renders coloured console lines on a terminal."""
    stream = FakeTTY()
    config = mcl.configure_logging(format="auto", stream=stream)
    assert config.format == "console"
    mcl.get_logger("tty").info("hello", user_id=3)
    text = stream.getvalue()
    assert "hello" in text
    assert "\x1b[" in text


def test_no_color_disables_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR turns colours off even on a terminal."""
    monkeypatch.setenv("NO_COLOR", "1")
    stream = FakeTTY()
    mcl.configure_logging(format="console", stream=stream)
    mcl.get_logger("tty").info("plain")
    assert "\x1b[" not in stream.getvalue()


def test_otel_true_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """otel=True without opentelemetry installed raises MissingExtraError naming the extra."""
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(mcl.MissingExtraError, match=r"maestro-core-logging\[otel\]") as info:
        mcl.configure_logging(otel=True, stream=io.StringIO())
    assert isinstance(info.value, ImportError)
    assert str(info.value) == (
        "Trace ids in log lines (otel=True) needs the otel extra: "
        "pip install 'maestro-core-logging[otel]'"
    )
    assert info.value.name == "opentelemetry"


def test_structlog_get_logger_joins_the_pipeline(configure: Callable[..., Output]) -> None:
    """Code logging through structlog.get_logger() directly gets the same JSON lines."""
    import structlog

    out = configure()
    structlog.get_logger().warning("from structlog", k=1)
    (line,) = out.lines()
    assert line["message"] == "from structlog"
    assert line["service"] == "svc"
    assert line["level"] == "warning"


def test_reset_logging_removes_the_handler(configure: Callable[..., Output]) -> None:
    """reset_logging takes the handler off the root logger and forgets the configuration."""
    configure()
    mcl.reset_logging()
    assert not any(isinstance(h, RoutingHandler) for h in logging.getLogger().handlers)
    assert mcl.current_config() is None


def test_extra_processors_run_before_rendering(configure: Callable[..., Output]) -> None:
    """Processors passed to configure_logging see the event dict and can add fields."""

    def add_region(logger: object, method: str, event: dict[str, object]) -> dict[str, object]:
        event["region"] = "eu-west-1"
        return event

    out = configure(processors=[add_region])
    mcl.get_logger("x").info("hi")
    assert out.lines()[0]["region"] == "eu-west-1"


def test_processor_can_drop_an_event(configure: Callable[..., Output]) -> None:
    """A processor raising structlog.DropEvent suppresses the line, stdlib records too."""
    import structlog

    def drop_health(logger: object, method: str, event: dict[str, object]) -> dict[str, object]:
        if event.get("event") == "health":
            raise structlog.DropEvent
        return event

    out = configure(processors=[drop_health])
    mcl.get_logger("x").info("health")
    logging.getLogger("app").warning("health")
    mcl.get_logger("x").info("kept")
    assert [line["message"] for line in out.lines()] == ["kept"]
