"""Test contracts shared by every Maestro package (dev only, never built or published).

- :func:`assert_public_namespace`: ``__all__`` is sorted and equals the public namespace.
- :func:`assert_light_import`: ``import pkg`` in a fresh interpreter loads none of the
  named heavy modules.
- :func:`require_service` / :data:`SERVICES`: a real service on 127.0.0.1; skips with a
  reason locally, fails under ``CI=true``.
- :class:`FakeClock`: ``clock=`` (aware UTC datetimes) and ``monotonic=`` (seconds) that only
  move when told to, with a recording ``sleep``.
- :func:`python_blocks` / :func:`run_python_block`: a README's ```python blocks, run as written.
- :func:`free_port`, :func:`unique_name`, :func:`package_version`.

The pytest plugin (:mod:`maestro_testkit.plugin`) adds the fixtures ``fake_clock``,
``unique_prefix`` and one URL fixture per shared service (``redis_url``, ``postgres_url``,
``mariadb_url``, ``rabbitmq_url``, ``nats_url``, ``mqtt_url``).
"""

from __future__ import annotations

from ._clock import FakeClock
from ._contracts import assert_light_import, assert_public_namespace, package_version
from ._readme import python_blocks, run_python_block
from ._services import IN_CI, SERVICES, Service, free_port, require_service, unique_name

__all__ = [
    "IN_CI",
    "SERVICES",
    "FakeClock",
    "Service",
    "assert_light_import",
    "assert_public_namespace",
    "free_port",
    "package_version",
    "python_blocks",
    "require_service",
    "run_python_block",
    "unique_name",
]
