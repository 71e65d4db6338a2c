"""The maestro-config command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from maestro_testkit import package_version

from .conftest import write

SETTINGS_MODULE = """
from pydantic import SecretStr
from maestro_core_config import DatabaseSettings, MaestroSettings, ServiceSettings

class Settings(MaestroSettings):
    service: ServiceSettings = ServiceSettings(name="orders")
    db: DatabaseSettings = DatabaseSettings()
    api_token: SecretStr | None = None
    workers: int = 2

NOT_SETTINGS = 1
"""


def maestro_config(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (beside this interpreter) with a clean environment."""
    script = Path(sys.executable).with_name("maestro-config")
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAESTRO_")}
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A service directory with a settings module, config files and a secrets directory."""
    write(tmp_path / "svc_settings.py", SETTINGS_MODULE)
    write(tmp_path / "config" / "base.yaml", "workers: 3\ndb:\n  host: base-db\n")
    write(tmp_path / "config" / "production.yaml", "db:\n  host: prod-db\n")
    write(tmp_path / "secrets" / "db__password", "pw-very-secret")
    return tmp_path


def test_validate_valid_configuration_exits_0(project: Path) -> None:
    """validate prints OK and exits 0 when every value is valid."""
    result = maestro_config("validate", "svc_settings:Settings", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: svc_settings:Settings is valid")


def test_validate_invalid_configuration_exits_1_with_every_error(project: Path) -> None:
    """validate exits 1 and prints each error with its source, never a secret."""
    write(project / "config" / "base.yaml", "workers: lots\ndb:\n  port: 0\n")
    result = maestro_config(
        "validate",
        "svc_settings:Settings",
        cwd=project,
        env={"MAESTRO_API_TOKEN": "", "MAESTRO_DB__POOL_SIZE": "-1"},
    )
    assert result.returncode == 1
    assert "3 configuration errors in Settings" in result.stderr
    assert "workers: Input should be a valid integer" in result.stderr
    assert "[source: yaml:config/base.yaml, got 'lots']" in result.stderr
    assert "[source: env:MAESTRO_DB__POOL_SIZE, got '-1']" in result.stderr
    assert result.stdout == ""


def test_validate_malformed_file_exits_1(project: Path) -> None:
    """A malformed YAML file makes validate exit 1 naming the file and line."""
    write(project / "config" / "base.yaml", "workers: [1,\n")
    result = maestro_config("validate", "svc_settings:Settings", cwd=project)
    assert result.returncode == 1
    assert "config/base.yaml, line 2: malformed YAML" in result.stderr


def test_show_redacts_secrets(project: Path) -> None:
    """show prints the effective values as JSON with secrets as asterisks."""
    result = maestro_config(
        "show",
        "svc_settings:Settings",
        "--secrets-dir",
        "secrets",
        "--environment",
        "production",
        cwd=project,
        env={"MAESTRO_API_TOKEN": "tok-secret"},
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["db"]["host"] == "prod-db"
    assert shown["db"]["password"] == "**********"
    assert shown["api_token"] == "**********"
    assert "pw-very-secret" not in result.stdout
    assert "tok-secret" not in result.stdout


def test_show_text_format(project: Path) -> None:
    """show --format text prints one dotted name and JSON value per line."""
    result = maestro_config("show", "svc_settings:Settings", "--format", "text", cwd=project)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["db.host", '"base-db"'] in rows
    assert ["db.password", "null"] in rows


def test_sources_names_each_origin(project: Path) -> None:
    """sources prints, per field, the source of its value; --format json gives a mapping."""
    result = maestro_config(
        "sources",
        "svc_settings:Settings",
        "--format",
        "json",
        "--config-dir",
        "config",
        "--secrets-dir",
        "secrets",
        cwd=project,
        env={"MAESTRO_ENVIRONMENT": "production", "MAESTRO_WORKERS": "5"},
    )
    assert result.returncode == 0, result.stderr
    sources = json.loads(result.stdout)
    assert sources["workers"] == "env:MAESTRO_WORKERS"
    assert sources["db.host"] == "yaml:config/production.yaml"
    assert sources["db.password"].startswith("secrets:")
    assert sources["db.password"].endswith("db__password")
    assert sources["db.port"] == "default"


def test_env_file_option(project: Path) -> None:
    """--env-file reads another dotenv file."""
    write(project / "prod.env", "MAESTRO_WORKERS=9\n")
    result = maestro_config(
        "sources", "svc_settings:Settings", "--env-file", "prod.env", cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert ["workers", "dotenv:prod.env"] in [line.split() for line in result.stdout.splitlines()]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("svc_settings", "expected MODULE:CLASS"),
        ("no_such_module:Settings", "cannot import module 'no_such_module'"),
        ("svc_settings:Missing", "has no attribute 'Missing'"),
        ("svc_settings:NOT_SETTINGS", "is not a subclass of maestro_core_config.MaestroSettings"),
    ],
)
def test_bad_settings_class_exits_2(project: Path, spec: str, message: str) -> None:
    """A settings reference that cannot be used is a usage error, exit status 2."""
    result = maestro_config("validate", spec, cwd=project)
    assert result.returncode == 2
    assert message in result.stderr


def test_unknown_command_exits_2(project: Path) -> None:
    """An unknown subcommand is rejected by the argument parser."""
    result = maestro_config("explain", "svc_settings:Settings", cwd=project)
    assert result.returncode == 2


def test_main_is_callable_in_process(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() returns the exit status instead of exiting, for embedding in other tools."""
    from maestro_core_config._cli import main

    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        args = ["validate", "svc_settings:Settings", "--config-dir", str(project / "config")]
        assert main(args) == 0
    finally:
        sys.modules.pop("svc_settings", None)
    assert "OK:" in capsys.readouterr().out


def test_unknown_environment_option_exits_1(project: Path) -> None:
    """--environment with an unknown name is an invalid configuration listing the valid ones."""
    result = maestro_config("validate", "svc_settings:Settings", "-e", "prod", cwd=project)
    assert result.returncode == 1
    assert "environment: Input should be 'development', 'test', 'staging' or 'production'" in (
        result.stderr
    )
    assert "[source: init, got 'prod']" in result.stderr


def test_an_unreadable_configuration_file_exits_3(project: Path) -> None:
    """A configuration file that cannot be read is an environment error, exit status 3."""
    (project / "config" / "base.yaml").unlink()
    (project / "config" / "base.yaml").mkdir()  # exists, but cannot be read as a file
    result = maestro_config("validate", "svc_settings:Settings", cwd=project)
    assert result.returncode == 3
    assert result.stderr.startswith("maestro-config: error: ")
    assert "cannot read the file" in result.stderr


def test_errors_carry_the_one_prefix_and_version_prints(project: Path) -> None:
    """Invalid configuration and usage errors start with 'maestro-config: error:'."""
    write(project / "config" / "base.yaml", "workers: lots\n")
    invalid = maestro_config("validate", "svc_settings:Settings", cwd=project)
    assert invalid.returncode == 1
    assert invalid.stderr.startswith("maestro-config: error: invalid configuration")
    usage = maestro_config("validate", "nonsense", cwd=project)
    assert usage.stderr.startswith("maestro-config: error: ")
    version = maestro_config("--version", cwd=project)
    assert version.returncode == 0
    assert version.stdout.strip() == f"maestro-config {package_version('maestro-core-config')}"
