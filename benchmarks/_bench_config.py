"""maestro-core-config against pydantic-settings alone, in one process.

Called by benchmarks/logging_config.py (the issue's one benchmark for both foundation
packages) and runnable on its own. Prints, for the same 20-field class and the same
environment variables: construction cost of ours and of plain pydantic-settings and their
ratio (aim: at most 1.3x), the cost of a cached `get_settings()` call (aim: under 1 us),
and import times (informational).
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from maestro_core_config import (
    DatabaseSettings,
    Environment,
    LoggingSettings,
    MaestroSettings,
    RedisSettings,
    ServiceSettings,
    clear_settings_cache,
    get_settings,
)
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CONSTRUCTION_AIM = 1.3
LOOKUP_AIM_NS = 1000.0

ENV = {
    "MAESTRO_ENVIRONMENT": "staging",
    "MAESTRO_WORKERS": "8",
    "MAESTRO_DB__HOST": "db.internal",
    "MAESTRO_DB__PASSWORD": secrets.token_hex(8),
    "MAESTRO_REDIS__PORT": "6380",
    "MAESTRO_API_TOKEN": secrets.token_hex(8),
}


class Ours(MaestroSettings):
    """20 fields: `environment` (inherited) and 19 more, four of them sections."""

    service: ServiceSettings = ServiceSettings(name="bench")
    logging: LoggingSettings = LoggingSettings()
    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    api_token: SecretStr | None = None
    workers: int = 2
    debug: bool = False
    timeout: float = 5.0
    region: str = "eu-west-1"
    feature_a: bool = False
    feature_b: bool = True
    max_items: int = 100
    batch_size: int = 50
    retry_limit: int = 3
    base_url: str = "http://localhost"
    tags: tuple[str, ...] = ()
    owner: str = "platform"
    queue: str = "default"
    ratio: float = 0.5


class Plain(BaseSettings):
    """The same 20 fields on pydantic-settings alone, with the same prefix and delimiter."""

    model_config = SettingsConfigDict(
        env_prefix="MAESTRO_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        frozen=True,
        nested_model_default_partial_update=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    service: ServiceSettings = ServiceSettings(name="bench")
    logging: LoggingSettings = LoggingSettings()
    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    api_token: SecretStr | None = None
    workers: int = 2
    debug: bool = False
    timeout: float = 5.0
    region: str = "eu-west-1"
    feature_a: bool = False
    feature_b: bool = True
    max_items: int = 100
    batch_size: int = 50
    retry_limit: int = 3
    base_url: str = "http://localhost"
    tags: tuple[str, ...] = ()
    owner: str = "platform"
    queue: str = "default"
    ratio: float = 0.5


@contextmanager
def _scene() -> Iterator[Path]:
    """An empty working directory and the benchmark's environment variables."""
    saved_cwd = Path.cwd()
    saved_env = {k: os.environ.get(k) for k in ENV}
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)
        os.environ.update(ENV)
        try:
            yield Path(directory)
        finally:
            os.chdir(saved_cwd)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _per_call(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Best-of-`repeat` seconds per call (the minimum is the least noisy estimate)."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        timings.append((time.perf_counter() - start) / number)
    return min(timings)


def _interleaved(
    a: Callable[[], object], b: Callable[[], object], number: int, rounds: int
) -> tuple[float, float]:
    """Best per-call time of `a` and `b`, timed in many small alternating batches.

    Small batches, alternated, and the minimum over many of them: on a shared machine a
    burst of load then spoils a few batches of both, not one whole measurement of one.
    """
    times_a, times_b = [], []
    for _ in range(rounds):
        times_a.append(_per_call(a, number, repeat=1))
        times_b.append(_per_call(b, number, repeat=1))
    return min(times_a), min(times_b)


def _import_ms() -> tuple[float, float]:
    """Median ms to import pydantic_settings, then maestro_core_config on top of it."""
    code = (
        "import time; t0 = time.perf_counter(); import pydantic_settings; "
        "t1 = time.perf_counter(); import maestro_core_config; t2 = time.perf_counter(); "
        "print(t1 - t0, t2 - t1)"
    )
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    return (
        statistics.median(r[0] for r in runs) * 1000,
        statistics.median(r[1] for r in runs) * 1000,
    )


def run() -> None:
    """Run the configuration benchmarks and print ours against the anchors."""
    print("maestro-core-config")
    with _scene() as directory:
        assert Ours().sources()["db.host"] == "env:MAESTRO_DB__HOST"  # same inputs reach both
        assert Plain().db.host == Ours().db.host == "db.internal"
        Ours(), Plain()  # warm up
        ours, plain = _interleaved(Ours, Plain, number=20, rounds=150)
        ratio = ours / plain
        print(
            f"  settings construction, 20 fields: ours {ours * 1e6:8.1f} us"
            f"  pydantic-settings alone {plain * 1e6:8.1f} us"
            f"  ratio {ratio:.2f}x  (aim <= {CONSTRUCTION_AIM}x)"
        )

        config = directory / "config"
        config.mkdir()
        (config / "base.yaml").write_text(
            "workers: 4\nregion: ${REGION:-eu-central-1}\ndb:\n  name: orders\n  port: 5433\n",
            encoding="utf-8",
        )
        (config / "staging.yaml").write_text("db:\n  pool_size: 10\n", encoding="utf-8")
        with_files = _per_call(Ours, number=200)
        print(
            f"  settings construction + base.yaml + staging.yaml: ours {with_files * 1e6:8.1f} us"
            "  (informational: pydantic-settings has no layered files)"
        )

        clear_settings_cache()
        get_settings(Ours)
        lookup = _per_call(lambda: get_settings(Ours), number=200_000)
        baseline_call = _per_call(lambda: None, number=200_000)
        print(
            f"  cached get_settings(): {lookup * 1e9:6.0f} ns per call"
            f" (a bare lambda call: {baseline_call * 1e9:.0f} ns)  (aim < {LOOKUP_AIM_NS:.0f} ns)"
        )
        clear_settings_cache()

    plain_import, ours_import = _import_ms()
    print(
        f"  import maestro_core_config: {ours_import:6.1f} ms on top of"
        f" import pydantic_settings {plain_import:.1f} ms  (informational)"
    )
    verdict = "met" if ratio <= CONSTRUCTION_AIM and lookup * 1e9 < LOOKUP_AIM_NS else "MISSED"
    print(f"  aims {verdict}")


if __name__ == "__main__":
    run()
