"""The pytest plugin, in real inner pytest sessions (pytester) against a loopback site.

The inner sessions load the plugin through its ``pytest11`` entry point, exactly as a user's
would; the browser tests drive the system Chromium on both engines.
"""

from __future__ import annotations

import http.server
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HOME = """<!doctype html><html><head><title>Plugin home</title></head><body>
<h1>Plugin test site</h1>
<button id="login-button" onclick="document.getElementById('form').style.display='block'">
  Log in</button>
<form id="form" style="display:none" onsubmit="event.preventDefault();
  document.getElementById('out').textContent = 'Hello ' +
  document.getElementById('username').value">
  <label for="username">User name</label><input id="username">
  <button type="submit">Submit</button>
</form>
<p id="out"></p>
<a href="/form">Sign in page</a>
</body></html>"""

FORM = """<!doctype html><html><head><title>Sign in</title></head><body>
<h1>Sign in</h1>
<nav><a href="/">Home</a></nav>
<label for="user">User name</label><input id="user">
<input id="secret" type="password" aria-label="Password">
<ul><li>First</li><li>Second</li></ul>
<button id="submit" disabled>Submit</button>
</body></html>"""

PAGES = {"/": HOME, "/form": FORM}
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
README = Path(__file__).resolve().parents[1] / "README.md"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path.split("?")[0])
        data = (body or "<h1>not found</h1>").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def plugin_site() -> Iterator[str]:
    """The base URL of a loopback server with the plugin tests' pages."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def inner(pytester: pytest.Pytester, source: str, *args: str, ini: str = "") -> pytest.RunResult:
    """Run ``source`` as test_inner.py in an inner pytest session (in this process)."""
    pytester.makeini(INI + ini)
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def folders(root: Path) -> list[str]:
    """The per-test artifact folders under an output folder."""
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# -- loading ----------------------------------------------------------------------------------


def test_entry_point_names_the_plugin() -> None:
    """pytest finds the plugin through the pytest11 entry point."""
    points = importlib.metadata.entry_points(group="pytest11")
    ours = [p for p in points if p.name == "maestro_test_adapters"]
    assert [p.value for p in ours] == ["maestro_test_adapters._pytest_plugin"]


def test_loading_the_plugin_imports_no_browser_library() -> None:
    """Importing the plugin module loads neither selenium nor playwright."""
    code = (
        "import sys, maestro_test_adapters._pytest_plugin\n"
        "print(sorted(m for m in ('selenium', 'playwright') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_a_session_without_its_fixtures_is_untouched(pytester: pytest.Pytester) -> None:
    """Loaded but unused: no browser library imported, no folder created, no option needed."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_inner="""
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("maestro_test_adapters")
            assert "selenium" not in sys.modules and "playwright" not in sys.modules

        def test_other():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert folders(pytester.path / "test-results") == []
    assert not (pytester.path / "test-results").exists()


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    """--help shows every --maestro- option; -p no:maestro_test_adapters removes them."""
    pytester.makeini(INI)
    result = pytester.runpytest("--help")
    for option in (
        "--maestro-engine",
        "--maestro-base-url",
        "--maestro-headed",
        "--maestro-browser-path",
        "--maestro-driver-path",
        "--maestro-output",
        "--maestro-tracing",
        "--maestro-timeout",
    ):
        result.stdout.fnmatch_lines([f"*{option}*"])
    disabled = pytester.runpytest("-p", "no:maestro_test_adapters", "--help")
    assert "--maestro-engine" not in disabled.stdout.str()


# pytest-playwright's options and ini keys (0.10) and pytest-base-url's (2.1), registered by
# a stand-in conftest: argparse refuses a session where two plugins add one option.
PYTEST_PLAYWRIGHT_STAND_IN = """
def pytest_addoption(parser):
    group = parser.getgroup("playwright", "Playwright")
    group.addoption("--browser", action="append", default=[])
    group.addoption("--headed", action="store_true", default=False)
    group.addoption("--browser-channel", default=None)
    group.addoption("--slowmo", default=0, type=int)
    group.addoption("--device", default=None)
    group.addoption("--output", default="test-results")
    group.addoption("--tracing", default="off")
    group.addoption("--video", default="off")
    group.addoption("--screenshot", default="off")
    group.addoption("--full-page-screenshot", action="store_true", default=False)
    group.addoption("--playwright-debug", default=None)
    parser.addini("base_url", help="base url for the application under test.")
    group.addoption("--base-url", default=None)
    group.addoption("--verify-base-url", action="store_true", default=False)

def pytest_configure(config):
    config.addinivalue_line("markers", "skip_browser(name): skip for a given browser")
    config.addinivalue_line("markers", "only_browser(name): run only on a given browser")
    config.addinivalue_line("markers", "browser_context_args(**kwargs): context arguments")
"""


def test_options_do_not_clash_with_pytest_playwright(pytester: pytest.Pytester) -> None:
    """Every pytest-playwright / pytest-base-url option still belongs to them; their
    --base-url is our fallback, and --maestro-base-url wins over it."""
    pytester.makeconftest(PYTEST_PLAYWRIGHT_STAND_IN)
    # the real ones, when installed, would clash with their stand-in
    real = ("-p", "no:playwright", "-p", "no:base_url")
    source = """
        def test_both(pytestconfig, maestro_base_url):
            assert pytestconfig.getoption("headed") is True
            assert pytestconfig.getoption("browser") == ["chromium"]
            assert pytestconfig.getoption("maestro_headed") is None
            print("BASE", maestro_base_url)
        """
    result = inner(
        pytester,
        source,
        *real,
        "-s",
        "--headed",
        "--browser",
        "chromium",
        "--base-url",
        "http://a:1",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*BASE http://a:1*"])
    result = inner(
        pytester,
        source,
        *real,
        "-s",
        "--headed",
        "--browser",
        "chromium",
        "--base-url",
        "http://a:1",
        "--maestro-base-url",
        "http://b:2",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*BASE http://b:2*"])
    result = inner(
        pytester,
        source,
        *real,
        "-s",
        "--headed",
        "--browser",
        "chromium",
        ini="base_url = http://c:3\n",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*BASE http://c:3*"])


@pytest.mark.skipif(
    importlib.util.find_spec("pytest_playwright") is None,
    reason="pytest-playwright is not installed (optional: both plugins must load together)",
)
def test_loads_beside_the_real_pytest_playwright(pytester: pytest.Pytester) -> None:
    """With pytest-playwright installed both plugins load; its fixtures and ours coexist."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_inner="""
        def test_both(request, pytestconfig, maestro_base_url, maestro_engine):
            pm = request.config.pluginmanager
            assert pm.has_plugin("playwright") and pm.has_plugin("maestro_test_adapters")
            assert pytestconfig.getoption("browser") == ["chromium"]
            assert maestro_base_url == "http://a:1" and maestro_engine == "selenium"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "--browser",
        "chromium",
        "--base-url",
        "http://a:1",
        "--headed",
        "--tracing",
        "off",
        "--maestro-engine",
        "selenium",
    )
    result.assert_outcomes(passed=1)


# -- settings ---------------------------------------------------------------------------------

SETTINGS_TEST = """
import pathlib

def test_settings(journey_tester, maestro_artifacts_dir, maestro_engine):
    print("SETTINGS", journey_tester.engine, maestro_engine, journey_tester.headless,
          journey_tester.timeout, journey_tester.base_url, journey_tester.trace,
          journey_tester.artifacts_dir == maestro_artifacts_dir,
          maestro_artifacts_dir.parent.name, maestro_artifacts_dir.name)
"""


def test_defaults(pytester: pytest.Pytester) -> None:
    """Without settings: Playwright, headless, 10 s, no base URL, retain-on-failure."""
    result = inner(pytester, SETTINGS_TEST, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*SETTINGS playwright playwright True 10.0 None retain-on-failure True "
            "test-results test-inner-py-test-settings*"
        ]
    )


def test_options_reach_the_tester(pytester: pytest.Pytester) -> None:
    """Every --maestro- option is applied to journey_tester."""
    result = inner(
        pytester,
        SETTINGS_TEST,
        "-s",
        "--maestro-engine=selenium",
        "--maestro-headed",
        "--maestro-timeout=2.5",
        "--maestro-base-url=http://127.0.0.1:9/app/",
        "--maestro-tracing=off",
        "--maestro-output=out",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*SETTINGS selenium selenium False 2.5 http://127.0.0.1:9/app/ off True out *"]
    )


def test_ini_keys_reach_the_tester(pytester: pytest.Pytester) -> None:
    """The same settings as ini keys; a command-line option wins over its ini key."""
    ini = (
        "maestro_engine = selenium\nmaestro_headed = true\nmaestro_timeout = 3\n"
        "maestro_base_url = http://127.0.0.1:9/\nmaestro_tracing = on\nmaestro_output = arts\n"
    )
    result = inner(pytester, SETTINGS_TEST, "-s", ini=ini)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*SETTINGS selenium selenium False 3.0 http://127.0.0.1:9/ on True arts *"]
    )
    result = inner(pytester, SETTINGS_TEST, "-s", "--maestro-engine=playwright", ini=ini)
    result.stdout.fnmatch_lines(["*SETTINGS playwright playwright *"])


BROWSER_PATH_TEST = """
import pytest
from maestro_test_adapters import BrowserNotFoundError

def test_browser_path(journey_tester):
    with pytest.raises(BrowserNotFoundError) as info:
        journey_tester.sync.run_user_journey([{"action": "navigate", "url": "http://x.invalid/"}])
    print("MESSAGE", str(info.value).replace("\\n", " | "))
"""


@pytest.mark.parametrize("where", ["option", "ini", "environment"])
def test_browser_path_from_option_ini_or_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """--maestro-browser-path, maestro_browser_path, else MAESTRO_BROWSER__PATH is used."""
    monkeypatch.delenv("MAESTRO_BROWSER__PATH", raising=False)
    args = ["-s"]
    ini = ""
    if where == "option":
        args.append("--maestro-browser-path=/nonexistent/by-option")
        expected = "/nonexistent/by-option (argument)"
    elif where == "ini":
        ini = "maestro_browser_path = /nonexistent/by-ini\n"
        expected = "/nonexistent/by-ini (argument)"
    else:
        monkeypatch.setenv("MAESTRO_BROWSER__PATH", "/nonexistent/by-env")
        expected = "/nonexistent/by-env ($MAESTRO_BROWSER__PATH)"
    result = inner(pytester, BROWSER_PATH_TEST, *args, ini=ini)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*MESSAGE *{expected}*"])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "maestro_engine = firefox\n",
            "maestro_engine = 'firefox': use playwright, selenium or all",
        ),
        ("maestro_tracing = sometimes\n", "maestro_tracing = 'sometimes': use on, off,*"),
        ("maestro_timeout = -1\n", "maestro timeout '-1': give a positive number of seconds"),
        ("maestro_timeout = soon\n", "maestro timeout 'soon': give a positive number of seconds"),
        ("maestro_base_url = localhost:8000\n", "*'localhost:8000' has no http:// or https://*"),
    ],
)
def test_bad_settings_are_usage_errors(pytester: pytest.Pytester, ini: str, message: str) -> None:
    """A bad ini value stops the session at once with a message naming it."""
    result = inner(pytester, "def test_x():\n    pass\n", ini=ini)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_a_bad_option_value_is_refused(pytester: pytest.Pytester) -> None:
    """--maestro-engine and --maestro-tracing accept only their choices."""
    result = inner(pytester, "def test_x():\n    pass\n", "--maestro-engine=firefox")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--maestro-engine*invalid choice*firefox*"])


# -- engine parametrization -------------------------------------------------------------------

ENGINES_TEST = """
import pytest

@pytest.mark.engines("playwright", "selenium")
def test_marked(maestro_engine):
    pass

@pytest.mark.engines("selenium")
def test_selenium_only(maestro_engine):
    assert maestro_engine == "selenium"

def test_unmarked(maestro_engine):
    pass

def test_no_fixture():
    pass

@pytest.mark.parametrize("maestro_engine", ["selenium"])
def test_chosen_by_hand(maestro_engine):
    assert maestro_engine == "selenium"
"""


def collected(result: pytest.RunResult) -> list[str]:
    """The node ids a run reported, with their outcome."""
    return sorted(
        line.split(" ")[0] + " " + line.split(" ")[1]
        for line in result.stdout.lines
        if line.startswith("test_inner.py::")
    )


def test_engines_marker_runs_a_test_once_per_engine(pytester: pytest.Pytester) -> None:
    """@pytest.mark.engines parametrizes; unmarked tests stay on the default engine."""
    result = inner(pytester, ENGINES_TEST, "-v")
    result.assert_outcomes(passed=6)
    assert collected(result) == [
        "test_inner.py::test_chosen_by_hand[selenium] PASSED",
        "test_inner.py::test_marked[playwright] PASSED",
        "test_inner.py::test_marked[selenium] PASSED",
        "test_inner.py::test_no_fixture PASSED",
        "test_inner.py::test_selenium_only[selenium] PASSED",
        "test_inner.py::test_unmarked PASSED",
    ]


def test_engine_all_runs_every_test_on_both(pytester: pytest.Pytester) -> None:
    """--maestro-engine all parametrizes every test that uses the plugin's fixtures."""
    result = inner(pytester, ENGINES_TEST, "-v", "--maestro-engine=all")
    result.assert_outcomes(passed=7)
    assert "test_inner.py::test_unmarked[playwright] PASSED" in collected(result)
    assert "test_inner.py::test_unmarked[selenium] PASSED" in collected(result)


def test_one_engine_chosen_skips_the_others(pytester: pytest.Pytester) -> None:
    """--maestro-engine playwright skips a marked test's other engines, saying why."""
    result = inner(pytester, ENGINES_TEST, "-v", "-rs", "--maestro-engine=playwright")
    result.assert_outcomes(passed=4, skipped=2)
    assert "test_inner.py::test_marked[selenium] SKIPPED" in collected(result)
    result.stdout.fnmatch_lines(["*SKIPPED*--maestro-engine playwright*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("'firefox'", "unknown engine 'firefox'; use playwright, selenium"),
        ("", "name at least one engine"),
        ("'selenium', 'selenium'", "an engine is named twice"),
    ],
)
def test_a_bad_engines_marker_is_a_collection_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    """A misspelt or empty engines marker fails collection with the marker in the message."""
    source = (
        f"import pytest\n\n@pytest.mark.engines({marker})\ndef test_x(maestro_engine):\n    pass\n"
    )
    result = inner(pytester, source)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*ConfigurationError*@pytest.mark.engines({marker})*{message}*"])


# -- journeys in a browser --------------------------------------------------------------------

PASSING = """
import pytest

@pytest.mark.engines("playwright", "selenium")
def test_sync(journey_tester):
    result = journey_tester.sync.run_user_journey([
        {"action": "navigate", "url": "/"},
        {"action": "click", "selector": "#login-button"},
        {"action": "type", "selector": "#username", "text": "ann"},
        {"action": "press", "key": "Enter"},
        {"action": "assert_text", "text": "Hello ann"},
    ])
    assert result.passed and result.artifacts_dir is None

@pytest.mark.engines("playwright", "selenium")
async def test_async(journey_tester):
    result = await journey_tester.run_user_journey(
        [{"action": "navigate", "url": "/form"}, {"action": "assert_title", "title": "Sign in"}]
    )
    assert result

def test_expected_failure(journey_tester):
    result = journey_tester.sync.run_user_journey(
        [{"action": "navigate", "url": "/"},
         {"action": "click", "selector": "#gone", "timeout": 0.3}],
        raise_on_failure=False,
    )
    assert not result and result.artifacts_dir.exists()
"""


@pytest.mark.browser
@pytest.mark.slow
def test_passing_tests_keep_no_artifacts(pytester: pytest.Pytester, plugin_site: str) -> None:
    """Journeys pass on both engines, sync and async; a passing test's folder is removed,
    even when it checked a journey that failed on purpose (raise_on_failure=False)."""
    result = inner(
        pytester, PASSING, f"--maestro-base-url={plugin_site}", ini="asyncio_mode = auto\n"
    )
    result.assert_outcomes(passed=5)
    assert folders(pytester.path / "test-results") == []


FAILING = """
import pytest

@pytest.mark.engines("playwright", "selenium")
def test_checkout(journey_tester):
    journey_tester.sync.run_user_journey([
        {"action": "navigate", "url": "/form"},
        {"action": "fill", "selector": "#user", "text": "bob"},
        {"action": "fill", "selector": "#secret", "text": "hunter2-secret"},
        {"action": "click", "selector": "#missing", "name": "press pay", "timeout": 0.5},
        {"action": "click", "selector": "#submit"},
    ], name="checkout")
"""


@pytest.mark.browser
@pytest.mark.slow
def test_a_failing_journey_fails_the_test_with_step_url_snapshot_and_artifacts(
    pytester: pytest.Pytester, plugin_site: str
) -> None:
    """The failure names the step (index, action, name), the URL, an accessibility snapshot
    of the page (Playwright's aria snapshot; a like outline on Selenium) and the artifacts;
    a password typed in the journey appears nowhere."""
    result = inner(pytester, FAILING, f"--maestro-base-url={plugin_site}")
    result.assert_outcomes(failed=2)
    reported = [line for line in result.stdout.lines if line.startswith("E ")]
    assert not [line for line in reported if "hunter2" in line]
    root = pytester.path / "test-results"
    assert folders(root) == [
        "test-inner-py-test-checkout-playwright",
        "test-inner-py-test-checkout-selenium",
    ]
    for engine in ("playwright", "selenium"):
        result.stdout.fnmatch_lines(
            [
                f"E*StepError: journey 'checkout' failed at step 3 (click 'press pay' #missing) "
                f"on {engine}",
                "E*StepTimeoutError:*",
                f"E*URL: {plugin_site}/form",
                "E*accessibility snapshot:",
                'E*- heading "Sign in" [[]level=1]',
                "E*- navigation:",
                'E*- link "Home":',
                "E*- /url: /",
                'E*- textbox "User name": bob',
                'E*- textbox "Password": ********',
                "E*- list:",
                "E*- listitem: First",
                'E*- button "Submit" [[]disabled]',
                f"E*artifacts: {root}/test-inner-py-test-checkout-{engine}/*-checkout-{engine}-*",
                f"E*journey 'checkout' on {engine}: FAILED*",
            ],
            consecutive=False,
        )
        (run_dir,) = (root / f"test-inner-py-test-checkout-{engine}").iterdir()
        names = sorted(p.name for p in run_dir.iterdir())
        assert {"step-03-aria-snapshot.yml", "step-03-page.html", "console.log"} <= set(names)
        # the tester's own capture: a screenshot, or a note why it could not be taken in time
        assert {"step-03-failure.png", "step-03-screenshot-error.txt"} & set(names)
        assert ("trace.zip" in names) is (engine == "playwright")
        snapshot = (run_dir / "step-03-aria-snapshot.yml").read_text()
        assert "hunter2-secret" not in snapshot
        assert 'textbox "User name": bob' in snapshot


RETURNED = """
def test_checked_by_hand(journey_tester):
    result = journey_tester.sync.run_user_journey(
        [{"action": "navigate", "url": "/"},
         {"action": "click", "selector": "#gone", "name": "open", "timeout": 0.3}],
        raise_on_failure=False,
    )
    assert result.passed, "the journey should pass"
"""


@pytest.mark.browser
def test_a_returned_failure_gets_a_report_section(
    pytester: pytest.Pytester, plugin_site: str
) -> None:
    """A test that fails on a journey result it checked itself still gets the URL and
    snapshot, in a 'maestro journey' section of its report."""
    result = inner(pytester, RETURNED, f"--maestro-base-url={plugin_site}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*AssertionError: the journey should pass",
            "*- maestro journey 'journey' -*",
            "journey 'journey' failed at step 1 (click 'open' #gone) on playwright",
            f"URL: {plugin_site}/",
            '*- heading "Plugin test site" [[]level=1]',
            "artifacts: *test-inner-py-test-checked-by-hand*",
        ],
        consecutive=False,
    )


PAGES_TEST = """
import pytest

def open_form(browser_page, engine, base_url):
    if engine == "playwright":
        browser_page.goto("/form")
        return browser_page.title()
    browser_page.get(base_url + "/form")
    return browser_page.title

@pytest.mark.engines("playwright", "selenium")
def test_page_ok(browser_page, maestro_engine, maestro_base_url):
    assert open_form(browser_page, maestro_engine, maestro_base_url) == "Sign in"

@pytest.mark.engines("playwright", "selenium")
def test_page_fails(browser_page, maestro_engine, maestro_base_url):
    open_form(browser_page, maestro_engine, maestro_base_url)
    assert False, "a hand-written step failed"
"""


@pytest.mark.browser
@pytest.mark.slow
def test_browser_page_on_both_engines(pytester: pytest.Pytester, plugin_site: str) -> None:
    """browser_page is a Playwright Page or a Selenium WebDriver; a failed test keeps a
    screenshot, the snapshot (and a Playwright trace) and reports URL and snapshot."""
    result = inner(pytester, PAGES_TEST, f"--maestro-base-url={plugin_site}")
    result.assert_outcomes(passed=2, failed=2)
    root = pytester.path / "test-results"
    assert folders(root) == [
        "test-inner-py-test-page-fails-playwright",
        "test-inner-py-test-page-fails-selenium",
    ]
    for engine in ("playwright", "selenium"):
        result.stdout.fnmatch_lines(
            [
                f"*- maestro browser_page ({engine}) -*",
                f"URL: {plugin_site}/form",
                "accessibility snapshot:",
                '*- heading "Sign in" [[]level=1]',
                f"artifacts: {root}/test-inner-py-test-page-fails-{engine}",
            ],
            consecutive=False,
        )
        names = sorted(p.name for p in (root / f"test-inner-py-test-page-fails-{engine}").iterdir())
        expected = ["aria-snapshot.yml", "failure.png"]
        if engine == "playwright":
            expected.append("trace.zip")
        assert names == expected


# -- the README section -----------------------------------------------------------------------


def readme_section() -> str:
    """The README's "pytest plugin" section."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## pytest plugin\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, "README has no '## pytest plugin' section"
    return match.group(1)


def test_readme_section_names_every_option_and_fixture() -> None:
    """The README section documents what the plugin registers."""
    section = readme_section()
    for name in (
        "--maestro-engine",
        "--maestro-base-url",
        "--maestro-headed",
        "--maestro-browser-path",
        "--maestro-driver-path",
        "--maestro-output",
        "--maestro-tracing",
        "--maestro-timeout",
        "MAESTRO_BROWSER__PATH",
        "journey_tester",
        "browser_page",
        "maestro_engine",
        "maestro_base_url",
        "maestro_artifacts_dir",
        "@pytest.mark.engines",
        "pytest-playwright",
    ):
        assert name in section, name


@pytest.mark.browser
@pytest.mark.slow
def test_readme_example_runs(pytester: pytest.Pytester, plugin_site: str) -> None:
    """The section's test file runs as written against the site (its ini, our base URL)."""
    section = readme_section()
    (source,) = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    (ini,) = re.findall(r"^```ini\n\[pytest\]\n(.*?)^```", section, re.M | re.S)
    ini = re.sub(r"maestro_base_url = .*\n", "", ini)
    result = inner(pytester, source, f"--maestro-base-url={plugin_site}", ini=ini)
    result.assert_outcomes(passed=3)
