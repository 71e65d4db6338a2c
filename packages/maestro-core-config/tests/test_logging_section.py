"""LoggingSettings holds exactly what maestro_core_logging.configure_logging takes."""

from __future__ import annotations

import pytest
from maestro_core_config import LoggingSettings, _sections


def test_fields_are_configure_logging_keywords() -> None:
    """The section's fields are level, format, extra_redact_keys and debug_sample_rate."""
    assert set(LoggingSettings.model_fields) == {
        "level",
        "format",
        "extra_redact_keys",
        "debug_sample_rate",
    }


def test_old_redact_keys_name_is_read_with_a_deprecation_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """redact_keys (1.0) still fills extra_redact_keys and warns once, naming the new field."""
    monkeypatch.setattr(_sections, "_WARNED_REDACT_KEYS", [])
    with pytest.warns(DeprecationWarning, match="use extra_redact_keys"):
        section = LoggingSettings.model_validate({"redact_keys": ["pin"]})
    assert section.extra_redact_keys == ("pin",)
