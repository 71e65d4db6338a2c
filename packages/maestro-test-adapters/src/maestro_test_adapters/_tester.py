"""AdvancedWebTester: run a journey on Playwright (default) or Selenium, async first."""

from __future__ import annotations

import asyncio
import math
import os
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._deprecation import deprecated_alias
from ._engines._base import Engine
from ._errors import ConfigurationError, JourneyValidationError
from ._extras import forbid_running_loop, require
from ._journey import Journey, Step, coerce_journey
from ._results import JourneyResult, StepResult, StepStatus

__all__ = ["AdvancedWebTester", "EngineName", "SyncWebTester", "TraceMode"]

EngineName = Literal["playwright", "selenium"]
TraceMode = Literal["off", "on", "retain-on-failure"]
JourneyInput = Journey | Sequence[Mapping[str, Any]] | str | os.PathLike[str]

_ENGINES = ("playwright", "selenium")
_TRACES = ("off", "on", "retain-on-failure")
_CAPTURE_S = 5.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")[:60] or "journey"


class AdvancedWebTester:
    """Runs user journeys (lists of step dicts, journey files, Recorder exports).

    Each call to :meth:`run_user_journey` validates the whole journey first, then starts a
    browser, runs the steps and closes the browser (so concurrent calls run side by side).
    Inside ``async with tester:`` one browser is kept for every journey, and concurrent
    journeys run side by side on it: each gets a fresh context with its own cookies on
    Playwright, and a WebDriver session of its own on Selenium (kept for later journeys).
    """

    def __init__(
        self,
        engine: EngineName = "playwright",
        *,
        headless: bool = True,
        timeout: float = 10.0,
        base_url: str | None = None,
        artifacts_dir: str | os.PathLike[str] = "maestro-artifacts",
        continue_on_failure: bool = False,
        trace: TraceMode = "retain-on-failure",
        viewport: tuple[int, int] = (1280, 720),
        browser_path: str | os.PathLike[str] | None = None,
        driver_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if engine not in _ENGINES:
            raise ConfigurationError(f"unknown engine {engine!r}; use one of {', '.join(_ENGINES)}")
        if trace not in _TRACES:
            raise ConfigurationError(
                f"unknown trace mode {trace!r}; use one of {', '.join(_TRACES)}"
            )
        if not (math.isfinite(timeout) and timeout > 0):
            raise ConfigurationError(
                f"timeout must be a positive, finite number of seconds, got {timeout!r}"
            )
        self.engine: EngineName = engine
        self.headless = headless
        self.timeout = float(timeout)
        self.base_url = base_url
        self.artifacts_dir = Path(artifacts_dir)
        self.continue_on_failure = continue_on_failure
        self.trace: TraceMode = trace
        self.viewport = viewport
        self._browser_path = browser_path
        self._driver_path = driver_path
        self._engine: Engine | None = None

    def _new_engine(self) -> Engine:
        if self.engine == "playwright":
            require("playwright", "playwright.async_api")
            from ._engines.playwright import PlaywrightEngine

            return PlaywrightEngine(
                headless=self.headless, browser_path=self._browser_path, viewport=self.viewport
            )
        require("selenium", "selenium.webdriver")
        from ._engines.selenium import SeleniumEngine

        return SeleniumEngine(
            headless=self.headless,
            browser_path=self._browser_path,
            driver_path=self._driver_path,
            viewport=self.viewport,
        )

    async def __aenter__(self) -> AdvancedWebTester:
        engine = self._new_engine()
        try:
            await engine.start()
        except BaseException:
            await engine.close()
            raise
        self._engine = engine
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the browser kept by ``async with``."""
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.close()

    def _prepare(self, journey: Journey) -> Journey:
        """Resolve relative URLs against base_url; refuse what cannot work, before a browser."""
        steps: list[Step] = []
        for original in journey.steps:
            step = original
            url = step.params.get("url") if step.action == "navigate" else None
            if url is not None and not urlsplit(url).scheme:
                if self.base_url is None:
                    raise JourneyValidationError(
                        step.index, "url", f"{url!r} is relative; give an absolute URL or base_url"
                    )
                step = replace(step, params={**step.params, "url": urljoin(self.base_url, url)})
            steps.append(step)
        return Journey(tuple(steps), journey.name)

    async def run_user_journey(
        self,
        steps: JourneyInput,
        *,
        name: str | None = None,
        continue_on_failure: bool | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> JourneyResult:
        """Validate, then run a journey; return its result (``bool(result)``: it passed).

        A failed journey is returned, not raised: check ``result.passed`` (or call
        ``result.raise_for_failure()``). With ``raise_on_failure=True`` a failed journey
        raises :class:`StepError` naming the first failed step, as scripts want.
        """
        journey = self._prepare(coerce_journey(steps, name))
        if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
            raise ConfigurationError(
                f"timeout must be a positive, finite number of seconds, got {timeout!r}"
            )
        keep_going = (
            self.continue_on_failure if continue_on_failure is None else continue_on_failure
        )
        default_timeout = self.timeout if timeout is None else float(timeout)
        if self._engine is not None:
            shared = self._engine
            engine = await shared.fork()
            try:
                result = await self._run(engine, journey, keep_going, default_timeout)
            finally:
                await shared.join(engine)
        else:
            engine = self._new_engine()
            try:
                await engine.start()
                result = await self._run(engine, journey, keep_going, default_timeout)
            finally:
                await engine.close()
        if raise_on_failure:
            result.raise_for_failure()
        return result

    @property
    def sync(self) -> SyncWebTester:
        """The same tester with blocking verbs, for scripts (not from inside an event loop)."""
        return SyncWebTester(self)

    def _run_user_journey_blocking(
        self,
        steps: JourneyInput,
        *,
        name: str | None = None,
        continue_on_failure: bool | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> JourneyResult:
        forbid_running_loop(
            "AdvancedWebTester.sync.run_user_journey()", "await tester.run_user_journey()"
        )
        return asyncio.run(
            self.run_user_journey(
                steps,
                name=name,
                continue_on_failure=continue_on_failure,
                timeout=timeout,
                raise_on_failure=raise_on_failure,
            )
        )

    run_user_journey_sync = deprecated_alias(
        _run_user_journey_blocking,
        "AdvancedWebTester.run_user_journey_sync()",
        "AdvancedWebTester.sync.run_user_journey()",
    )

    async def _run(
        self, engine: Engine, journey: Journey, keep_going: bool, default_timeout: float
    ) -> JourneyResult:
        started_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        run_dir = (
            self.artifacts_dir
            / f"{stamp}-{_slug(journey.name)}-{engine.name}-{secrets.token_hex(3)}"
        )
        artifacts: list[Path] = []
        results: list[StepResult] = []
        failed = False
        start = time.perf_counter()
        await engine.begin(
            trace=self.trace != "off" and engine.name == "playwright",
            blank=journey.steps[0].action != "navigate",
        )
        trace_saved = False
        try:
            for step in journey.steps:
                if failed and not keep_going:
                    results.append(
                        StepResult(
                            step.index,
                            step.action,
                            StepStatus.SKIPPED,
                            0.0,
                            step.selector_text,
                            None,
                            step.name,
                        )
                    )
                    continue
                t0 = time.perf_counter()
                try:
                    used = await self._step(
                        engine, step, step.timeout or default_timeout, run_dir, artifacts
                    )
                except Exception as exc:  # a driver crash mid-step still yields a result
                    error = f"{type(exc).__name__}: {exc} ({await self._where(engine)})"
                else:
                    results.append(
                        StepResult(
                            step.index,
                            step.action,
                            StepStatus.PASSED,
                            time.perf_counter() - t0,
                            used,
                            None,
                            step.name,
                        )
                    )
                    continue
                results.append(
                    StepResult(
                        step.index,
                        step.action,
                        StepStatus.FAILED,
                        time.perf_counter() - t0,
                        step.selector_text,
                        error,
                        step.name,
                    )
                )
                failed = True
                artifacts.extend(await self._capture(engine, step, run_dir))
            console = await engine.console()
            if failed:
                run_dir.mkdir(parents=True, exist_ok=True)
                log = run_dir / "console.log"
                log.write_text("\n".join(console) + ("\n" if console else ""), encoding="utf-8")
                artifacts.append(log)
            keep_trace = self.trace == "on" or (failed and self.trace == "retain-on-failure")
            if keep_trace and engine.name == "playwright":
                run_dir.mkdir(parents=True, exist_ok=True)
            trace_saved = True
            artifacts.extend(await engine.end(run_dir / "trace.zip" if keep_trace else None))
        finally:
            if not trace_saved:
                await engine.end(None)
        return JourneyResult(
            name=journey.name,
            engine=engine.name,
            steps=tuple(results),
            duration=time.perf_counter() - start,
            started_at=started_at,
            artifacts_dir=run_dir if run_dir.exists() else None,
            artifacts=tuple(artifacts),
            console=tuple(console),
        )

    async def _step(
        self, engine: Engine, step: Step, timeout: float, run_dir: Path, artifacts: list[Path]
    ) -> str | None:
        if step.action != "screenshot":
            return await engine.perform(step, timeout)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / f"step-{step.index:02d}-{_slug(step.name or 'screenshot')}.png"
        await engine.screenshot(path, full_page=bool(step.params.get("full_page", False)))
        artifacts.append(path)
        return None

    async def _where(self, engine: Engine) -> str:
        """``on <engine> at <url>`` for failure messages (bounded: the page may be stuck)."""
        try:
            url = await asyncio.wait_for(engine.current_url(), _CAPTURE_S)
        except Exception:
            url = "an unknown URL"
        return f"on {engine.name} at {url}"

    async def _capture(self, engine: Engine, step: Step, run_dir: Path) -> list[Path]:
        """Screenshot and HTML of the page at a failed step (best effort, never raises)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        shot = run_dir / f"step-{step.index:02d}-failure.png"
        html = run_dir / f"step-{step.index:02d}-page.html"
        try:
            # Each capture has its own short deadline (never a driver's long read timeout).
            await asyncio.wait_for(engine.screenshot(shot, full_page=True), _CAPTURE_S)
            saved.append(shot)
        except Exception as exc:
            note = run_dir / f"step-{step.index:02d}-screenshot-error.txt"
            note.write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
            saved.append(note)
        try:
            page = await asyncio.wait_for(engine.page_html(), _CAPTURE_S)
            html.write_text(page, encoding="utf-8")
            saved.append(html)
        except Exception as exc:
            html.write_text(
                f"<!-- page HTML unavailable: {type(exc).__name__} -->\n", encoding="utf-8"
            )
            saved.append(html)
        return saved


class SyncWebTester:
    """``tester.sync``: the verbs of :class:`AdvancedWebTester`, blocking."""

    __slots__ = ("_tester",)

    def __init__(self, tester: AdvancedWebTester) -> None:
        self._tester = tester

    def run_user_journey(
        self,
        steps: JourneyInput,
        *,
        name: str | None = None,
        continue_on_failure: bool | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> JourneyResult:
        """The blocking form of :meth:`AdvancedWebTester.run_user_journey`."""
        return self._tester._run_user_journey_blocking(
            steps,
            name=name,
            continue_on_failure=continue_on_failure,
            timeout=timeout,
            raise_on_failure=raise_on_failure,
        )
