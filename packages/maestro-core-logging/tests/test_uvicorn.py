"""uvicorn_log_config(): a real uvicorn process writes every line structured."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import maestro_core_logging as mcl
import pytest
from maestro_testkit import free_port

APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

RUN = """
import sys, uvicorn
from maestro_core_logging import configure_logging, uvicorn_log_config
configure_logging(service="edge", format="json")
uvicorn.run("app:app", host="127.0.0.1", port=int(sys.argv[1]), log_config=uvicorn_log_config())
"""


def _get(url: str) -> int:
    """GET url, retrying until the server answers (a few seconds at most)."""
    for _ in range(200):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return int(response.status)
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def test_every_uvicorn_line_is_a_structured_json_line(tmp_path: Path) -> None:
    """Startup, access and shutdown lines of a real uvicorn all come out as our JSON."""
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "run.py").write_text(RUN, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "run.py", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _get(f"http://127.0.0.1:{port}/orders?page=2") == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert err.strip() == "", err
    assert lines, "uvicorn wrote nothing"
    assert {line["service"] for line in lines} == {"edge"}
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers
    [access] = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["http_status"] == 200
    assert access["http_method"] == "GET"
    assert access["http_path"] == "/orders"
    assert access["client_ip"] == "127.0.0.1"


def test_the_config_names_uvicorns_loggers_and_checks_the_level() -> None:
    """The dict sends uvicorn's three loggers to one handler; a bad level is refused."""
    config = mcl.uvicorn_log_config("warning", access_log=False)
    assert config["loggers"]["uvicorn.error"] == {
        "handlers": ["maestro"],
        "level": "WARNING",
        "propagate": False,
    }
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    with pytest.raises(mcl.InvalidLevelError):
        mcl.uvicorn_log_config("loud")
