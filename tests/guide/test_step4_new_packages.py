"""Step 4 of the guide ("Verify imports work"), in its form, for the packages it leaves out.

The guide's one-liners cover the four Week 1 packages; these are the same checks for the
other distributions its "Install All Packages" command names, run as a user would: a fresh
interpreter, outside the source tree, the names each package's README leads with.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ONE_LINERS = {
    "maestro-core-logging": "from maestro_core_logging import configure_logging, get_logger",
    "maestro-core-config": "from maestro_core_config import MaestroSettings, get_settings",
    "maestro-core-api": "from maestro_core_api import create_app, MaestroAPI",
    "maestro-core-auth": "from maestro_core_auth import TokenVerifier, PasswordManager",
    "maestro-core-db": "from maestro_core_db import DatabaseManager, BaseRepository",
    "maestro-monitoring": "from maestro_monitoring import MetricsManager, HealthCheck",
    "maestro-cache": "from maestro_cache import CacheService, RedisCache",
    "maestro-core-messaging": "from maestro_core_messaging import MessageBroker",
}


@pytest.mark.parametrize("distribution", sorted(ONE_LINERS))
def test_the_step_4_one_liner_prints_ok(distribution: str, tmp_path: Path) -> None:
    """python -c "from <package> import ...; print('✅ OK')" prints ✅ OK from any folder."""
    code = f"{ONE_LINERS[distribution]}; print('✅ OK')"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "✅ OK"
