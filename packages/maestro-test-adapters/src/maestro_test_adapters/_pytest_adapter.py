"""PytestAdapter: run a pytest suite in a subprocess and read its JUnit XML."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._deprecation import deprecated_alias
from ._errors import PytestRunError
from ._junit import CaseStatus, PytestCaseResult, parse_junit_xml
from ._results import ResultStore

__all__ = ["PytestAdapter", "PytestRunResult"]


@dataclass(frozen=True, slots=True)
class PytestRunResult:
    """A pytest run: exit code, per-test results, output; ``bool(result)``: exit code 0."""

    exit_code: int
    tests: tuple[PytestCaseResult, ...]
    duration: float
    command: tuple[str, ...]
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)

    @property
    def passed(self) -> bool:
        """Whether pytest exited 0 (every collected test passed or was skipped)."""
        return self.exit_code == 0

    def __bool__(self) -> bool:
        return self.passed

    def count(self, status: CaseStatus | str) -> int:
        """How many tests ended with ``status``."""
        return sum(1 for t in self.tests if t.status == status)

    @property
    def failures(self) -> tuple[PytestCaseResult, ...]:
        """Failed and errored tests, in report order."""
        return tuple(t for t in self.tests if t.status in (CaseStatus.FAILED, CaseStatus.ERROR))

    def report(self) -> str:
        """One line of counts plus one line per failure."""
        lines = [
            f"pytest exit {self.exit_code} in {self.duration:.2f}s: "
            + ", ".join(f"{self.count(s)} {s.value}" for s in CaseStatus)
        ]
        lines.extend(f"  {t.status.value.upper()} {t.test_id}: {t.message}" for t in self.failures)
        return "\n".join(lines)

    def store(
        self,
        aggregator: ResultStore,
        *,
        orchestration_id: str,
        category: str = "pytest",
        metadata: Mapping[str, Any] | None = None,
    ) -> int:
        """Store every test case in a maestro-test-result-aggregator; return how many.

        ``aggregator`` is a ``TestResultAggregator`` (or anything with its ``store_result``);
        statuses go as the aggregator's status words, so this package never imports it.
        """
        for test in self.tests:
            meta: dict[str, Any] = {"classname": test.classname, "file": test.file}
            if test.message:
                meta["message"] = test.message
            meta.update(metadata or {})
            aggregator.store_result(
                test_id=test.test_id,
                orchestration_id=orchestration_id,
                category=category,
                status=test.status.value,
                duration=test.duration,
                metadata=meta,
            )
        return len(self.tests)


class PytestAdapter:
    """Runs ``python -m pytest`` in a subprocess and returns structured results.

    ``run("tests/", "-k", "login")`` adds ``--junitxml`` (and ``junit_family=xunit1``, so
    each case carries its file and line) and parses that report safely.
    """

    def __init__(
        self,
        *,
        python: str | os.PathLike[str] = sys.executable,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.python = os.fspath(python)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.timeout = timeout
        self.args = tuple(args)

    def _command(self, junit: Path, args: Sequence[str]) -> list[str]:
        return [
            self.python,
            "-m",
            "pytest",
            *self.args,
            *args,
            f"--junitxml={junit}",
            "-o",
            "junit_family=xunit1",
        ]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        return env

    def _result(
        self, code: int, junit: Path, command: list[str], *, out: str, err: str, start: float
    ) -> PytestRunResult:
        tests = parse_junit_xml(junit) if junit.exists() and junit.stat().st_size else ()
        return PytestRunResult(
            exit_code=code,
            tests=tests,
            duration=time.perf_counter() - start,
            command=tuple(command),
            stdout=out,
            stderr=err,
        )

    def run(self, *args: str) -> PytestRunResult:
        """Run pytest with ``args`` and wait for it (blocking)."""
        with tempfile.TemporaryDirectory(prefix="maestro-pytest-") as tmp:
            junit = Path(tmp) / "junit.xml"
            command = self._command(junit, args)
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=self.cwd,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            except OSError as exc:
                raise PytestRunError(f"cannot start {self.python}: {exc.strerror}") from None
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.communicate()
                raise PytestRunError(
                    f"pytest did not finish within {self.timeout}s and was stopped"
                ) from None
            return self._result(proc.returncode, junit, command, out=out, err=err, start=start)

    async def arun(self, *args: str) -> PytestRunResult:
        """Run pytest with ``args`` without blocking the event loop."""
        with tempfile.TemporaryDirectory(prefix="maestro-pytest-") as tmp:
            junit = Path(tmp) / "junit.xml"
            command = self._command(junit, args)
            start = time.perf_counter()
            try:
                proc = await asyncio.create_subprocess_exec(
                    *command,
                    cwd=self.cwd,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as exc:
                raise PytestRunError(f"cannot start {self.python}: {exc.strerror}") from None
            try:
                out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
            except TimeoutError:
                _kill_group(proc.pid)
                await proc.wait()
                raise PytestRunError(
                    f"pytest did not finish within {self.timeout}s and was stopped"
                ) from None
            code = proc.returncode if proc.returncode is not None else -1
            return self._result(
                code,
                junit,
                command,
                out=out.decode(errors="replace"),
                err=err.decode(errors="replace"),
                start=start,
            )

    run_async = deprecated_alias(arun, "PytestAdapter.run_async()", "PytestAdapter.arun()")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
