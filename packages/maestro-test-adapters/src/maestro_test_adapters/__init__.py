"""Selenium, Playwright and pytest adapters, and browser user journeys as data.

``import maestro_test_adapters`` loads neither selenium nor playwright; each engine is
imported when first used, and a missing one raises MissingExtraError naming the extra.
"""

from ._browser import BrowserInstall, find_browser, find_chromedriver
from ._errors import (
    BrowserLaunchError,
    BrowserNotFoundError,
    BrowserVersionMismatchError,
    ConfigurationError,
    EventLoopError,
    JourneyFileError,
    JourneyValidationError,
    JUnitXMLError,
    MaestroTestAdaptersError,
    MissingExtraError,
    PytestRunError,
    StepError,
    StepTimeoutError,
)
from ._journey import ACTIONS, Journey, Step
from ._junit import CaseStatus, PytestCaseResult, parse_junit_xml
from ._playwright import PlaywrightAdapter
from ._pytest_adapter import PytestAdapter, PytestRunResult
from ._results import JourneyResult, ResultStore, StepResult, StepStatus
from ._selectors import Selector, parse_selector
from ._selenium import SeleniumAdapter
from ._tester import AdvancedWebTester, SyncWebTester
from ._version import __version__

__all__ = [
    "ACTIONS",
    "AdvancedWebTester",
    "BrowserInstall",
    "BrowserLaunchError",
    "BrowserNotFoundError",
    "BrowserVersionMismatchError",
    "CaseStatus",
    "ConfigurationError",
    "EventLoopError",
    "JUnitXMLError",
    "Journey",
    "JourneyFileError",
    "JourneyResult",
    "JourneyValidationError",
    "MaestroTestAdaptersError",
    "MissingExtraError",
    "PlaywrightAdapter",
    "PytestAdapter",
    "PytestCaseResult",
    "PytestRunError",
    "PytestRunResult",
    "ResultStore",
    "Selector",
    "SeleniumAdapter",
    "Step",
    "StepError",
    "StepResult",
    "StepStatus",
    "StepTimeoutError",
    "SyncWebTester",
    "__version__",
    "find_browser",
    "find_chromedriver",
    "parse_junit_xml",
    "parse_selector",
]
