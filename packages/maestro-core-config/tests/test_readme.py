"""The README's examples run as written."""

from __future__ import annotations

import os
import re
import sys
import types
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def test_readme_examples_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every python block runs in order in one namespace, with the YAML blocks as files."""
    blocks = FENCE.findall(README.read_text(encoding="utf-8"))
    python = [body for lang, body in blocks if lang == "python"]
    assert len(python) >= 5
    for lang, body in blocks:
        first = body.splitlines()[0] if body else ""
        if lang == "yaml" and first.startswith("# "):
            target = tmp_path / first[2:].strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
    saved = dict(os.environ)
    # A real module, so pydantic can resolve the example classes' annotations.
    module = types.ModuleType("maestro_core_config_readme")
    sys.modules[module.__name__] = module
    try:
        for body in python:
            # dont_inherit: this file's `from __future__ import annotations` must not leak in
            code = compile(body, str(README), "exec", dont_inherit=True)
            exec(code, module.__dict__)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        del sys.modules[module.__name__]
    printed = capsys.readouterr().out
    documented = next(body for lang, body in blocks if lang == "text" and "errors in" in body)
    assert printed == documented
