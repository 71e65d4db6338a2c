"""Shared fixtures: a manager on its own registry, and the exposition of a registry."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from maestro_monitoring import MetricsManager


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry so tests never share series."""
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> MetricsManager:
    """A metrics manager writing to the test's own registry."""
    return MetricsManager(registry=registry, enabled=True)
