"""Benchmarks of maestro-core-logging and maestro-core-config against their anchors.

Each half lives in its own module (``_bench_logging.py``, ``_bench_config.py``) exposing
``run() -> None``; this script runs the halves that exist, in one process.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run every half of the benchmark that is present."""
    for name in ("_bench_logging", "_bench_config"):
        path = HERE / f"{name}.py"
        if not path.exists():
            print(f"({name}.py not present: skipped)")
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except ModuleNotFoundError as error:
            # Only a package of ours missing from this environment skips a half.
            if not (error.name or "").startswith("maestro_"):
                raise
            print(f"({name}.py skipped: {error.name} is not installed here)")
            continue
        module.run()


if __name__ == "__main__":
    main()
