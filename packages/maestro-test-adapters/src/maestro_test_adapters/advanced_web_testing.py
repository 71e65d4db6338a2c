"""Journeys on a real browser: ``from maestro_test_adapters.advanced_web_testing import
AdvancedWebTester`` (the import path the integration guide documents)."""

from ._journey import Journey, Step
from ._results import JourneyResult, StepResult, StepStatus
from ._tester import AdvancedWebTester

__all__ = ["AdvancedWebTester", "Journey", "JourneyResult", "Step", "StepResult", "StepStatus"]
