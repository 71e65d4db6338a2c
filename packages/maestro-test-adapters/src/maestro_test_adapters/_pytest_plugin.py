"""The pytest plugin (entry point ``pytest11``): journeys and browser pages as fixtures.

Inert until a test asks for one of its fixtures: loading it imports neither selenium nor
playwright, creates no folder and starts nothing. Its options all start with ``--maestro-``
and its ini keys with ``maestro_``, so it loads beside pytest-playwright and pytest-base-url
(``--browser``, ``--headed``, ``--base-url``, ``--output``, ``--tracing``, ``--screenshot``
... stay theirs); without ``--maestro-base-url`` the plugin falls back to their
``--base-url`` / ``base_url`` when one of them is loaded.

Fixtures: ``journey_tester`` (an AdvancedWebTester configured from the options, whose failed
journeys fail the test with the failing step, the URL and an accessibility snapshot),
``browser_page`` (a Playwright sync ``Page`` or a Selenium ``WebDriver``), ``maestro_engine``,
``maestro_base_url`` and ``maestro_artifacts_dir``. ``@pytest.mark.engines("playwright",
"selenium")`` or ``--maestro-engine all`` runs a test once per engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import re
import shutil
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import pytest

from ._errors import ConfigurationError, StepError
from ._extras import forbid_running_loop
from ._results import JourneyResult
from ._tester import AdvancedWebTester, EngineName, JourneyInput, SyncWebTester, TraceMode

if TYPE_CHECKING:
    from ._engines._base import Engine
    from ._journey import Step

__all__ = ["OUTLINE_SCRIPT", "PluginOptions"]

ENGINES: tuple[EngineName, ...] = ("playwright", "selenium")
_TRACINGS = ("on", "off", "retain-on-failure")
_CAPTURE_S = 5.0
_SNAPSHOT_LINES = 80
_REDACTED = "********"
_UNSAFE = re.compile(r"[^a-z0-9]+")

# A role / name outline of the page in the shape of Playwright's aria snapshot
# (``- role "name" [attributes]: text``), computed in the page for Selenium. Password
# values are never read out.
OUTLINE_SCRIPT = r"""
const root = arguments[0] || document.body;
const FROM_CONTENT = new Set(['button', 'link', 'heading', 'cell', 'columnheader',
  'rowheader', 'option', 'row', 'tab', 'menuitem', 'checkbox', 'radio', 'switch',
  'treeitem', 'tooltip']);
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head', 'title', 'meta', 'link']);
const REDACTED = '********';
const flat = (s) => (s || '').replace(/\s+/g, ' ').trim();
const textOf = (el) => flat(el.innerText !== undefined ? el.innerText : el.textContent);
function visible(el) {
  if (el.hidden || el.getAttribute('aria-hidden') === 'true') return false;
  const style = getComputedStyle(el);
  return style.display !== 'none' && style.visibility !== 'hidden';
}
function sectioned(el) {
  return !!el.parentElement && !!el.parentElement.closest('article, aside, main, nav, section');
}
function roleOf(el) {
  const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
  if (explicit) return explicit === 'none' || explicit === 'presentation' ? null : explicit;
  const tag = el.tagName.toLowerCase();
  if (/^h[1-6]$/.test(tag)) return 'heading';
  if (tag === 'input') {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    const byType = {checkbox: 'checkbox', radio: 'radio', button: 'button', submit: 'button',
      reset: 'button', image: 'button', range: 'slider', number: 'spinbutton', hidden: null,
      file: 'button', search: el.hasAttribute('list') ? 'combobox' : 'searchbox'};
    if (type in byType) return byType[type];
    return el.hasAttribute('list') ? 'combobox' : 'textbox';
  }
  switch (tag) {
    case 'a': case 'area': return el.hasAttribute('href') ? 'link' : null;
    case 'button': return 'button';
    case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    case 'textarea': return 'textbox';
    case 'option': return 'option';
    case 'img': return el.getAttribute('alt') === '' ? null : 'img';
    case 'ul': case 'ol': case 'menu': return 'list';
    case 'li': return 'listitem';
    case 'nav': return 'navigation';
    case 'main': return 'main';
    case 'header': return sectioned(el) ? null : 'banner';
    case 'footer': return sectioned(el) ? null : 'contentinfo';
    case 'aside': return 'complementary';
    case 'section': return nameOf(el, 'region') ? 'region' : null;
    case 'form': return nameOf(el, 'form') ? 'form' : null;
    case 'article': return 'article';
    case 'p': return 'paragraph';
    case 'table': return 'table';
    case 'thead': case 'tbody': case 'tfoot': return 'rowgroup';
    case 'tr': return 'row';
    case 'td': return 'cell';
    case 'th': return 'columnheader';
    case 'dialog': return 'dialog';
    case 'fieldset': case 'details': return 'group';
    case 'hr': return 'separator';
    case 'progress': return 'progressbar';
    case 'blockquote': return 'blockquote';
    default: return null;
  }
}
function nameOf(el, role) {
  const labelledby = el.getAttribute('aria-labelledby');
  if (labelledby) {
    const text = labelledby.split(/\s+/).map((id) => document.getElementById(id))
      .filter(Boolean).map(textOf).join(' ');
    if (flat(text)) return flat(text);
  }
  const label = flat(el.getAttribute('aria-label'));
  if (label) return label;
  const tag = el.tagName.toLowerCase();
  if (el.labels && el.labels.length) return flat(Array.from(el.labels).map(textOf).join(' '));
  if (tag === 'img' || (tag === 'input' && el.type === 'image')) {
    return flat(el.getAttribute('alt')) || flat(el.getAttribute('title'));
  }
  if (tag === 'input' && ['submit', 'reset', 'button'].includes(el.type)) {
    return flat(el.value) || (el.type === 'submit' ? 'Submit' : el.type === 'reset' ? 'Reset' : '');
  }
  if (tag === 'fieldset') {
    const legend = el.querySelector(':scope > legend');
    if (legend) return textOf(legend);
  }
  if (FROM_CONTENT.has(role)) return textOf(el);
  return flat(el.getAttribute('title')) || flat(el.getAttribute('placeholder'));
}
function attributesOf(el, role) {
  const out = [];
  if (role === 'heading') {
    const level = el.getAttribute('aria-level') || el.tagName.slice(1);
    out.push('level=' + level);
  }
  if (role === 'checkbox' || role === 'radio' || role === 'switch') {
    const aria = el.getAttribute('aria-checked');
    if (aria === 'mixed') out.push('checked=mixed');
    else if (el.checked || aria === 'true') out.push('checked');
  }
  if (el.disabled || el.getAttribute('aria-disabled') === 'true') out.push('disabled');
  if (el.getAttribute('aria-expanded') === 'true') out.push('expanded');
  if (el.getAttribute('aria-pressed') === 'true') out.push('pressed');
  if (role === 'option' && (el.selected || el.getAttribute('aria-selected') === 'true')) {
    out.push('selected');
  }
  return out;
}
function valueOf(el, role) {
  if (!['textbox', 'searchbox', 'spinbutton', 'combobox'].includes(role)) return '';
  if (!('value' in el) || el.tagName.toLowerCase() === 'select') return '';
  if ((el.getAttribute('type') || '').toLowerCase() === 'password') {
    return el.value ? REDACTED : '';
  }
  return flat(el.value);
}
function collect(node, out) {
  const kids = node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes;
  for (const child of kids) {
    if (child.nodeType === Node.TEXT_NODE) {
      const last = out[out.length - 1];
      if (last && last.text !== undefined) last.text += child.textContent;
      else out.push({text: child.textContent});
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = child.tagName.toLowerCase();
    if (SKIP.has(tag) || !visible(child)) continue;
    const role = roleOf(child);
    const children = [];
    if (tag !== 'textarea' && !(tag === 'input')) collect(child, children);
    if (!role) {
      for (const item of children) {
        const last = out[out.length - 1];
        if (item.text !== undefined && last && last.text !== undefined) last.text += item.text;
        else out.push(item);
      }
      continue;
    }
    const node = {role, name: nameOf(child, role), attributes: attributesOf(child, role),
      value: valueOf(child, role), children};
    if (role === 'link' && child.getAttribute('href')) node.url = child.getAttribute('href');
    out.push(node);
  }
}
function render(items, indent, lines) {
  for (const item of items) {
    if (item.text !== undefined) {
      const text = flat(item.text);
      if (text) lines.push(indent + '- text: ' + text);
      continue;
    }
    let head = indent + '- ' + item.role;
    if (item.name) head += ' ' + JSON.stringify(item.name);
    for (const attribute of item.attributes) head += ' [' + attribute + ']';
    let children = item.children.filter((c) => c.text === undefined || flat(c.text));
    if (children.length === 1 && children[0].text !== undefined
        && flat(children[0].text) === item.name) children = [];
    const value = item.value;
    if (!item.url && children.length === 0) {
      lines.push(value ? head + ': ' + value : head);
    } else if (!item.url && children.length === 1 && children[0].text !== undefined && !value) {
      lines.push(head + ': ' + flat(children[0].text));
    } else {
      lines.push(head + ':');
      render(children, indent + '  ', lines);
      if (item.url) lines.push(indent + '  - /url: ' + item.url);
    }
  }
}
const items = [];
collect(root, items);
const lines = [];
render(items, '', lines);
return lines.join('\n');
"""

_PASSWORD_VALUES = "els => els.map(e => e.value).filter(v => v)"


# -- options ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginOptions:
    """The plugin's settings, resolved once per session: option, then ini, then default."""

    engine: str | None
    base_url: str | None
    headed: bool
    browser_path: str | None
    driver_path: str | None
    output: Path
    tracing: TraceMode
    timeout: float

    @property
    def default_engine(self) -> EngineName:
        """The engine of a test without an ``engines`` marker."""
        return self.engine if self.engine in ENGINES else "playwright"


_OPTIONS = pytest.StashKey[PluginOptions]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--maestro-*`` options and ``maestro_*`` ini keys (none clash with pytest-playwright)."""
    group = parser.getgroup("maestro", "Maestro browser journeys (maestro-test-adapters)")
    group.addoption(
        "--maestro-engine",
        choices=(*ENGINES, "all"),
        default=None,
        help="journey_tester / browser_page engine: playwright (default), selenium, or all "
        "(each test once per engine). Ini: maestro_engine.",
    )
    group.addoption(
        "--maestro-base-url",
        default=None,
        metavar="URL",
        help="base URL relative journey URLs resolve against. Ini: maestro_base_url; "
        "falls back to pytest-base-url's --base-url when that is loaded.",
    )
    group.addoption(
        "--maestro-headed",
        action="store_true",
        default=None,
        help="show the browser window. Ini: maestro_headed.",
    )
    group.addoption(
        "--maestro-browser-path",
        default=None,
        metavar="PATH",
        help="Chromium executable. Ini: maestro_browser_path; else $MAESTRO_BROWSER__PATH, "
        "else the system Chromium.",
    )
    group.addoption(
        "--maestro-driver-path",
        default=None,
        metavar="PATH",
        help="chromedriver for Selenium. Ini: maestro_driver_path; else "
        "$MAESTRO_BROWSER__DRIVER_PATH, else the system chromedriver.",
    )
    group.addoption(
        "--maestro-output",
        default=None,
        metavar="DIR",
        help="folder of the per-test artifacts (default test-results). Ini: maestro_output.",
    )
    group.addoption(
        "--maestro-tracing",
        choices=_TRACINGS,
        default=None,
        help="Playwright trace per test: retain-on-failure (default), on, off. "
        "Ini: maestro_tracing.",
    )
    group.addoption(
        "--maestro-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="default step timeout of journey_tester (default 10). Ini: maestro_timeout.",
    )
    parser.addini("maestro_engine", "journey engine: playwright, selenium or all")
    parser.addini("maestro_base_url", "base URL of the application under test")
    parser.addini("maestro_headed", "show the browser window", type="bool", default=False)
    parser.addini("maestro_browser_path", "Chromium executable")
    parser.addini("maestro_driver_path", "chromedriver executable")
    parser.addini("maestro_output", "folder of the per-test artifacts", default="test-results")
    parser.addini("maestro_tracing", "on, off or retain-on-failure", default="retain-on-failure")
    parser.addini("maestro_timeout", "default journey step timeout in seconds", default="10")


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(f"maestro_{name}")
    if value is not None:
        return value
    return config.getini(f"maestro_{name}")


def _foreign_base_url(config: pytest.Config) -> str | None:
    """pytest-base-url's (or pytest-playwright's fallback) ``--base-url`` / ``base_url``."""
    value = config.getoption("base_url", default=None)
    if value:
        return str(value)
    with contextlib.suppress(ValueError):  # the ini key exists only when one of them is loaded
        ini = config.getini("base_url")
        if ini:
            return str(ini)
    return None


def _resolve(config: pytest.Config) -> PluginOptions:
    engine = str(_setting(config, "engine") or "").strip() or None
    if engine is not None and engine not in (*ENGINES, "all"):
        raise pytest.UsageError(f"maestro_engine = {engine!r}: use playwright, selenium or all")
    base_url = str(_setting(config, "base_url") or "").strip() or _foreign_base_url(config)
    if base_url and urlsplit(base_url).scheme not in ("http", "https", "file"):
        raise pytest.UsageError(f"maestro base URL {base_url!r} has no http:// or https:// scheme")
    tracing = str(_setting(config, "tracing")).strip()
    if tracing not in _TRACINGS:
        raise pytest.UsageError(f"maestro_tracing = {tracing!r}: use {', '.join(_TRACINGS)}")
    raw_timeout = _setting(config, "timeout")
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise pytest.UsageError(
            f"maestro timeout {raw_timeout!r}: give a positive number of seconds"
        )
    output = Path(str(_setting(config, "output")).strip() or "test-results")
    if not output.is_absolute():
        output = config.invocation_params.dir / output
    return PluginOptions(
        engine=engine,
        base_url=base_url or None,
        headed=bool(_setting(config, "headed")),
        browser_path=str(_setting(config, "browser_path") or "").strip() or None,
        driver_path=str(_setting(config, "driver_path") or "").strip() or None,
        output=output,
        tracing=cast("TraceMode", tracing),
        timeout=timeout,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``engines`` marker and check the settings (nothing is imported)."""
    config.addinivalue_line(
        "markers",
        "engines(*names): run the test once per journey engine (playwright, selenium) "
        "with journey_tester / browser_page on that engine",
    )
    config.stash[_OPTIONS] = _resolve(config)


def _options(config: pytest.Config) -> PluginOptions:
    return config.stash[_OPTIONS]


# -- engine parametrization ---------------------------------------------------------------


def _marked_engines(metafunc: pytest.Metafunc) -> list[str] | None:
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is None:
        return None
    names = list(marker.args)
    where = f"@pytest.mark.engines({', '.join(map(repr, names))})"
    if not names:
        raise ConfigurationError(f"{where}: name at least one engine (playwright, selenium)")
    for name in names:
        if name not in ENGINES:
            raise ConfigurationError(f"{where}: unknown engine {name!r}; use {', '.join(ENGINES)}")
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{where}: an engine is named twice")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests once per engine: their ``engines`` marker, or ``--maestro-engine all``."""
    if "maestro_engine" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        names = argnames.split(",") if isinstance(argnames, str) else list(argnames)
        if "maestro_engine" in (n.strip() for n in names):
            return  # the test chose its engines itself
    marked = _marked_engines(metafunc)
    chosen = _options(metafunc.config).engine
    if marked is None:
        if chosen == "all":
            metafunc.parametrize("maestro_engine", ENGINES)
        return
    if chosen in (None, "all"):
        metafunc.parametrize("maestro_engine", marked)
        return
    params = [
        e
        if e == chosen
        else pytest.param(e, marks=pytest.mark.skip(reason=f"--maestro-engine {chosen}"))
        for e in marked
    ]
    metafunc.parametrize("maestro_engine", params)


# -- per-test state and reports -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Capture:
    url: str
    snapshot: str
    snapshot_file: Path | None


@dataclass(slots=True)
class _TestState:
    artifacts_dir: Path
    options: PluginOptions
    testers: list[_PluginWebTester] = field(default_factory=list)
    page: tuple[str, Any] | None = None
    reports: dict[str, pytest.TestReport] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(report.failed for report in self.reports.values())


_STATE = pytest.StashKey[_TestState]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report; a failed call gets the journeys' and page's details."""
    report = yield
    state = item.stash.get(_STATE, None)
    if state is None:
        return report
    state.reports[report.when] = report
    if report.when == "call" and report.failed:
        _add_failure_sections(state, report)
    return report


def _add_failure_sections(state: _TestState, report: pytest.TestReport) -> None:
    for tester in state.testers:
        for result in tester.results:
            if not result.passed and id(result) not in tester.raised:
                report.sections.append(
                    (f"maestro journey {result.name!r}", tester.describe(result))
                )
    if state.page is not None:
        report.sections.append((f"maestro browser_page ({state.page[0]})", _capture_page(state)))


# -- the tester -----------------------------------------------------------------------------


def _redact(snapshot: str, secrets: Sequence[str]) -> str:
    """Replace the values of password fields in an aria snapshot."""
    if not secrets:
        return snapshot
    lines = snapshot.splitlines()
    for i, line in enumerate(lines):
        for secret in secrets:
            if "textbox" in line and line.endswith(f": {secret}"):
                lines[i] = line[: -len(secret)] + _REDACTED
    return "\n".join(lines)


def _cap(snapshot: str, where: Path | None) -> str:
    lines = snapshot.splitlines() or ["(empty page)"]
    shown = [f"  {line}" for line in lines[:_SNAPSHOT_LINES]]
    if len(lines) > _SNAPSHOT_LINES:
        rest = f"  ... {len(lines) - _SNAPSHOT_LINES} more lines"
        shown.append(rest + (f" in {where}" if where is not None else ""))
    return "\n".join(shown)


async def _live_snapshot(engine: Engine) -> str:
    """The accessibility snapshot of the engine's live page (bounded, never raises)."""
    try:
        if engine.name == "playwright":
            page = cast("Any", engine).page
            body = page.locator("body")
            snapshot = await asyncio.wait_for(body.aria_snapshot(), _CAPTURE_S)
            secrets = await asyncio.wait_for(
                page.eval_on_selector_all("input[type=password]", _PASSWORD_VALUES), _CAPTURE_S
            )
            return _redact(str(snapshot), [str(s) for s in secrets])
        driver = cast("Any", engine).driver
        outline = await asyncio.wait_for(
            asyncio.to_thread(driver.execute_script, OUTLINE_SCRIPT), _CAPTURE_S
        )
        return str(outline)
    except Exception as exc:
        return f"(accessibility snapshot unavailable: {type(exc).__name__}: {exc})"


class _PluginSyncTester(SyncWebTester):
    """``journey_tester.sync``: a failed journey raises unless ``raise_on_failure=False``."""

    __slots__ = ()

    def run_user_journey(
        self,
        steps: JourneyInput,
        *,
        name: str | None = None,
        continue_on_failure: bool | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> JourneyResult:
        __tracebackhide__ = True
        forbid_running_loop(
            "journey_tester.sync.run_user_journey()", "await journey_tester.run_user_journey()"
        )
        tester = cast("_PluginWebTester", self._tester)
        result = asyncio.run(
            tester.run_user_journey(
                steps,
                name=name,
                continue_on_failure=continue_on_failure,
                timeout=timeout,
                raise_on_failure=False,
            )
        )
        if raise_on_failure and not result.passed:
            # Raised here, not in the event loop, so the traceback ends in the test.
            tester.raised.add(id(result))
            raise StepError(tester.describe(result))
        return result


class _PluginWebTester(AdvancedWebTester):
    """The ``journey_tester`` fixture: failures raise with the step, URL and aria snapshot."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results: list[JourneyResult] = []
        self.raised: set[int] = set()
        self._captures: dict[tuple[Path, int], _Capture] = {}

    @property
    def sync(self) -> SyncWebTester:
        """Blocking verbs; ``run_user_journey`` raises on failure by default, as here."""
        return _PluginSyncTester(self)

    async def run_user_journey(
        self,
        steps: JourneyInput,
        *,
        name: str | None = None,
        continue_on_failure: bool | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> JourneyResult:
        """Run a journey; a failed one raises StepError (``raise_on_failure=False``: return it)."""
        __tracebackhide__ = True
        result = await super().run_user_journey(
            steps,
            name=name,
            continue_on_failure=continue_on_failure,
            timeout=timeout,
            raise_on_failure=False,
        )
        self.results.append(result)
        if raise_on_failure and not result.passed:
            self.raised.add(id(result))
            raise StepError(self.describe(result))
        return result

    async def _capture(self, engine: Engine, step: Step, run_dir: Path) -> list[Path]:
        saved = await super()._capture(engine, step, run_dir)
        try:
            url = await asyncio.wait_for(engine.current_url(), _CAPTURE_S)
        except Exception as exc:
            url = f"unknown ({type(exc).__name__})"
        snapshot = await _live_snapshot(engine)
        path = run_dir / f"step-{step.index:02d}-aria-snapshot.yml"
        try:
            path.write_text(snapshot + "\n", encoding="utf-8")
        except OSError:
            written = None
        else:
            written = path
            saved.append(path)
        self._captures[(run_dir, step.index)] = _Capture(url, snapshot, written)
        return saved

    def describe(self, result: JourneyResult) -> str:
        """The failure message: failing step, URL, accessibility snapshot, artifacts, report."""
        failed = result.failures[0]
        label = failed.action
        if failed.name:
            label += f" {failed.name!r}"
        if failed.selector:
            label += f" {failed.selector}"
        lines = [
            f"journey {result.name!r} failed at step {failed.index} ({label}) on {result.engine}"
        ]
        if failed.error:
            lines.extend(f"  {line}" for line in failed.error.splitlines())
        capture = (
            self._captures.get((result.artifacts_dir, failed.index))
            if result.artifacts_dir is not None
            else None
        )
        if capture is not None:
            lines.append(f"URL: {capture.url}")
            lines.append("accessibility snapshot:")
            lines.append(_cap(capture.snapshot, capture.snapshot_file))
        lines.append(f"artifacts: {result.artifacts_dir or '(none saved)'}")
        lines.append("")
        lines.append(result.report())
        return "\n".join(lines)


# -- fixtures -------------------------------------------------------------------------------


def _slug(nodeid: str) -> str:
    name = _UNSAFE.sub("-", nodeid.lower()).strip("-") or "test"
    if len(name) >= 200:
        digest = hashlib.sha256(name.encode()).hexdigest()[:7]
        name = f"{name[:90]}-{digest}-{name[-90:]}"
    return name


@pytest.fixture
def maestro_engine(pytestconfig: pytest.Config) -> str:
    """The engine this test runs on (parametrized by ``engines`` / ``--maestro-engine all``)."""
    return _options(pytestconfig).default_engine


@pytest.fixture
def maestro_base_url(pytestconfig: pytest.Config) -> str | None:
    """``--maestro-base-url`` / ``maestro_base_url`` (or pytest-base-url's), else None."""
    return _options(pytestconfig).base_url


@pytest.fixture
def maestro_artifacts_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This test's artifacts folder (created when something is saved; kept on failure)."""
    options = _options(request.config)
    name = _slug(request.node.nodeid)
    retry = getattr(request.node, "execution_count", 1) - 1
    if retry > 0:
        name += f"-retry{retry}"
    folder = options.output / name
    shutil.rmtree(folder, ignore_errors=True)  # a previous run's artifacts of this test
    state = _TestState(folder, options)
    request.node.stash[_STATE] = state
    yield folder
    if not (state.failed or options.tracing == "on"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def journey_tester(
    request: pytest.FixtureRequest, maestro_engine: str, maestro_artifacts_dir: Path
) -> AdvancedWebTester:
    """An AdvancedWebTester from the ``--maestro-*`` options; a failed journey fails the test."""
    state = request.node.stash[_STATE]
    options = state.options
    if maestro_engine not in ENGINES:
        raise ConfigurationError(
            f"unknown engine {maestro_engine!r}; use one of {', '.join(ENGINES)}"
        )
    tester = _PluginWebTester(
        maestro_engine,
        headless=not options.headed,
        timeout=options.timeout,
        base_url=options.base_url,
        artifacts_dir=maestro_artifacts_dir,
        trace=options.tracing,
        browser_path=options.browser_path,
        driver_path=options.driver_path,
    )
    state.testers.append(tester)
    return tester


@pytest.fixture
def browser_page(
    request: pytest.FixtureRequest, maestro_engine: str, maestro_artifacts_dir: Path
) -> Iterator[Any]:
    """A Playwright sync ``Page`` or a Selenium ``WebDriver`` for hand-written steps."""
    state = request.node.stash[_STATE]
    options = state.options
    if maestro_engine == "playwright":
        yield from _playwright_page(state, options, maestro_artifacts_dir)
    elif maestro_engine == "selenium":
        yield from _selenium_driver(state, options)
    else:
        raise ConfigurationError(
            f"unknown engine {maestro_engine!r}; use one of {', '.join(ENGINES)}"
        )


_VIEWPORT = (1280, 720)


def _playwright_page(state: _TestState, options: PluginOptions, folder: Path) -> Iterator[Any]:
    from ._playwright import PlaywrightAdapter

    with PlaywrightAdapter(options.browser_path, headless=not options.headed) as adapter:
        browser = adapter.launch()
        extra: dict[str, Any] = {"base_url": options.base_url} if options.base_url else {}
        context = browser.new_context(
            viewport={"width": _VIEWPORT[0], "height": _VIEWPORT[1]}, **extra
        )
        tracing = options.tracing != "off"
        try:
            if tracing:
                context.tracing.start(screenshots=True, snapshots=True, sources=False)
            page = context.new_page()
            state.page = ("playwright", page)
            yield page
        finally:
            state.page = None
            keep = options.tracing == "on" or (state.failed and options.tracing != "off")
            try:
                if tracing and keep:
                    folder.mkdir(parents=True, exist_ok=True)
                    context.tracing.stop(path=folder / "trace.zip")
                elif tracing:
                    context.tracing.stop()
            finally:
                with contextlib.suppress(Exception):
                    context.close()


def _selenium_driver(state: _TestState, options: PluginOptions) -> Iterator[Any]:
    from ._selenium import SeleniumAdapter

    with SeleniumAdapter(options.browser_path, options.driver_path) as adapter:
        driver = adapter.create_driver(headless=not options.headed, window_size=_VIEWPORT)
        state.page = ("selenium", driver)
        try:
            yield driver
        finally:
            state.page = None


def _capture_page(state: _TestState) -> str:
    """URL, accessibility snapshot and screenshot of a failed test's ``browser_page``."""
    assert state.page is not None
    engine, handle = state.page
    folder = state.artifacts_dir
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "failure.png"
    lines: list[str] = []
    try:
        if engine == "playwright":
            url = str(handle.url)
            snapshot = str(handle.locator("body").aria_snapshot(timeout=_CAPTURE_S * 1000))
            secrets = handle.eval_on_selector_all("input[type=password]", _PASSWORD_VALUES)
            snapshot = _redact(snapshot, [str(s) for s in secrets])
        else:
            url = str(handle.current_url)
            snapshot = str(handle.execute_script(OUTLINE_SCRIPT))
    except Exception as exc:
        url = "unknown"
        snapshot = f"(accessibility snapshot unavailable: {type(exc).__name__}: {exc})"
    snapshot_file = folder / "aria-snapshot.yml"
    snapshot_file.write_text(snapshot + "\n", encoding="utf-8")
    try:
        if engine == "playwright":
            handle.screenshot(path=shot, full_page=True, timeout=_CAPTURE_S * 1000)
        else:
            handle.save_screenshot(os.fspath(shot))
    except Exception as exc:
        lines.append(f"screenshot failed: {type(exc).__name__}: {exc}")
    lines.insert(0, f"URL: {url}")
    lines.append("accessibility snapshot:")
    lines.append(_cap(snapshot, snapshot_file))
    lines.append(f"artifacts: {folder}")
    return "\n".join(lines)
