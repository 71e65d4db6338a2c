"""YAML and TOML configuration files: layering, formats and every way a file can be bad."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from maestro_core_config import (
    ConfigFileError,
    ConfigFileSettingsSource,
    InterpolationError,
    MaestroConfigError,
)

from .conftest import AppSettings, write


def test_base_and_environment_files_deep_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys of the environment file override base keys one by one, inside sections too."""
    write(
        tmp_path / "config" / "base.yaml",
        "workers: 2\ndb:\n  host: base-host\n  port: 5000\n  name: app\n",
    )
    write(tmp_path / "config" / "test.yaml", "db:\n  port: 6000\n")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "test")
    db = AppSettings().db
    assert (db.host, db.port, db.name) == ("base-host", 6000, "app")


def test_toml_files_work_like_yaml(tmp_path: Path) -> None:
    """base.toml and {environment}.toml are read the same way as YAML files."""
    write(tmp_path / "config" / "base.toml", 'workers = 3\n[db]\nhost = "toml-host"\n')
    write(tmp_path / "config" / "development.toml", "[db]\nport = 7000\n")
    settings = AppSettings()
    assert (settings.workers, settings.db.host, settings.db.port) == (3, "toml-host", 7000)


def test_yml_suffix_is_accepted(tmp_path: Path) -> None:
    """config/base.yml is read like base.yaml."""
    write(tmp_path / "config" / "base.yml", "workers: 11\n")
    assert AppSettings().workers == 11


def test_two_files_for_one_layer_are_refused(tmp_path: Path) -> None:
    """base.yaml next to base.toml is ambiguous and raises instead of picking one."""
    write(tmp_path / "config" / "base.yaml", "workers: 1\n")
    write(tmp_path / "config" / "base.toml", "workers = 2\n")
    with pytest.raises(ConfigFileError, match=r"base\.yaml, base\.toml"):
        AppSettings()


def test_interpolation_in_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${VAR} takes the variable's value and ${VAR:-default} falls back to the default."""
    write(
        tmp_path / "config" / "base.yaml",
        "workers: ${CFGTEST_WORKERS}\ndb:\n  host: ${CFGTEST_HOST:-fallback}\n",
    )
    monkeypatch.setenv("CFGTEST_WORKERS", "12")
    settings = AppSettings()
    assert settings.workers == 12
    assert settings.db.host == "fallback"


def test_unset_variable_without_default_is_an_error(tmp_path: Path) -> None:
    """${VAR} with VAR unset raises InterpolationError naming the file, key and variable."""
    write(tmp_path / "config" / "base.yaml", "db:\n  host: ${CFGTEST_MISSING}\n")
    with pytest.raises(InterpolationError) as caught:
        AppSettings()
    assert caught.value.variable == "CFGTEST_MISSING"
    assert "db.host" in str(caught.value)
    assert "config/base.yaml" in str(caught.value)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error raises ConfigFileError with the file and the 1-based line."""
    write(tmp_path / "config" / "base.yaml", "workers: 2\ndb:\n  host: [unclosed\n  port: 1\n")
    with pytest.raises(ConfigFileError) as caught:
        AppSettings()
    assert caught.value.path == Path("config/base.yaml")
    assert caught.value.line == 4
    assert "config/base.yaml, line 4: malformed YAML" in str(caught.value)


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error raises ConfigFileError with the file and the line."""
    write(tmp_path / "config" / "base.toml", 'workers = 2\nname = "unterminated\n')
    with pytest.raises(ConfigFileError) as caught:
        AppSettings()
    assert caught.value.line == 2
    assert "malformed TOML" in str(caught.value)


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    """A base.yaml that cannot be read (here: a directory) raises, never silently skips."""
    (tmp_path / "config" / "base.yaml").mkdir(parents=True)
    with pytest.raises(ConfigFileError, match="cannot read the file"):
        AppSettings()


def test_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 raise ConfigFileError naming the file."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "base.yaml").write_bytes(b"workers: \xff\n")
    with pytest.raises(ConfigFileError, match="not valid UTF-8"):
        AppSettings()


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    """A file whose top level is a list is refused with the reason."""
    write(tmp_path / "config" / "base.yaml", "- a\n- b\n")
    with pytest.raises(ConfigFileError, match="must be a mapping"):
        AppSettings()


def test_empty_file_is_an_empty_layer(tmp_path: Path) -> None:
    """An empty base.yaml contributes nothing and is not an error."""
    write(tmp_path / "config" / "base.yaml", "")
    assert AppSettings().workers == 2


def test_config_dir_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    """A configuration 'directory' that is a file raises ConfigFileError."""
    write(tmp_path / "config", "workers: 3\n")
    with pytest.raises(ConfigFileError, match="not a directory"):
        AppSettings()


def test_literal_secret_in_a_file_is_refused(tmp_path: Path) -> None:
    """A plain password in a config file raises, and the message does not contain it."""
    write(tmp_path / "config" / "base.yaml", "db:\n  password: hunter2\n")
    with pytest.raises(ConfigFileError) as caught:
        AppSettings()
    assert "db.password is a secret" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_referenced_secret_in_a_file_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """password: ${VAR} is the accepted way to point a file at a secret."""
    write(tmp_path / "config" / "base.yaml", "db:\n  password: ${CFGTEST_DB_PASSWORD}\n")
    monkeypatch.setenv("CFGTEST_DB_PASSWORD", "hunter2")
    password = AppSettings().db.password
    assert password is not None
    assert password.get_secret_value() == "hunter2"


def test_file_errors_belong_to_the_family() -> None:
    """ConfigFileError is a MaestroConfigError and a ValueError."""
    assert issubclass(ConfigFileError, MaestroConfigError)
    assert issubclass(ConfigFileError, ValueError)
    assert issubclass(InterpolationError, ConfigFileError)


def test_source_lists_the_files_it_read(tmp_path: Path) -> None:
    """ConfigFileSettingsSource used on its own returns the merged mapping and its files."""
    write(tmp_path / "conf" / "base.yaml", "workers: 1\n")
    write(tmp_path / "conf" / "development.yaml", "workers: 2\n")
    source = ConfigFileSettingsSource(AppSettings, tmp_path / "conf", environ={})
    assert source() == {"workers": 2}
    assert [p.name for p in source.files] == ["base.yaml", "development.yaml"]


def test_yaml_is_imported_only_when_a_yaml_file_is_read(tmp_path: Path) -> None:
    """Building settings without YAML files never imports yaml; reading one does."""
    (tmp_path / "mod.py").write_text(
        "import sys\n"
        "from maestro_core_config import MaestroSettings\n"
        "class S(MaestroSettings):\n    workers: int = 1\n"
        "S()\nprint('yaml' in sys.modules)\n"
        "import pathlib\npathlib.Path('config').mkdir()\n"
        "pathlib.Path('config/base.yaml').write_text('workers: 2')\n"
        "print(S().workers, 'yaml' in sys.modules)\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "mod.py"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "2", "True"]


def test_literal_url_with_password_in_a_file_is_refused(tmp_path: Path) -> None:
    """db.url with an inline password in a file is refused; a ${VAR} reference is fine."""
    write(tmp_path / "config" / "base.yaml", "db:\n  url: postgresql://app:pw-1@db/orders\n")
    with pytest.raises(ConfigFileError, match=r"db\.url is a secret") as caught:
        AppSettings()
    assert "pw-1" not in str(caught.value)


def test_database_url_referenced_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """db.url: ${DATABASE_URL} gives the 12-factor variable to the database section."""
    write(
        tmp_path / "config" / "base.yaml", "db:\n  url: ${CFGTEST_DATABASE_URL}\n  pool_size: 9\n"
    )
    monkeypatch.setenv("CFGTEST_DATABASE_URL", "postgresql://app:pw@db.internal:6000/orders")
    settings = AppSettings()
    assert (settings.db.host, settings.db.port, settings.db.pool_size) == ("db.internal", 6000, 9)
    assert settings.sources()["db.host"] == "yaml:config/base.yaml"
