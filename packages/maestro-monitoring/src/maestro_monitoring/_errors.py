"""The exceptions and warnings of maestro-monitoring: one family, rooted in MaestroMonitoringError.

Hierarchy::

    Exception
     +-- MaestroMonitoringError
          +-- ConfigurationError        also a ValueError: a bad argument or setting
          |    +-- MetricNameError       a metric or label name breaks a naming rule
          |    +-- UnsupportedOptionError  also a TypeError: a keyword the original package
          |                              had that no longer means anything
          +-- MissingExtraError         also an ImportError: an optional extra is not installed
          +-- CardinalityWarning        also a UserWarning (issued, never raised): a metric
                                        reached max_label_sets; new label sets overflow
"""

from __future__ import annotations

__all__ = [
    "CardinalityWarning",
    "ConfigurationError",
    "MaestroMonitoringError",
    "MetricNameError",
    "MissingExtraError",
    "UnsupportedOptionError",
]


class MaestroMonitoringError(Exception):
    """Base class of every error raised by maestro-monitoring."""


class ConfigurationError(MaestroMonitoringError, ValueError):
    """An argument or setting is invalid; the message says which and how to fix it."""


class MetricNameError(ConfigurationError):
    """A metric or label name breaks a Prometheus naming rule; the message names the fix."""


class UnsupportedOptionError(ConfigurationError, TypeError):
    """A keyword of the original package that no longer has a meaning was passed."""


class MissingExtraError(MaestroMonitoringError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` line."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-monitoring[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))


class CardinalityWarning(MaestroMonitoringError, UserWarning):
    """A metric reached its ``max_label_sets``: new label sets go to the ``__overflow__`` series."""
