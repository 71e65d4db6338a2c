"""Multiprocess (pre-fork) helpers: import them in the gunicorn config.

::

    # gunicorn.conf.py  (PROMETHEUS_MULTIPROC_DIR set in the environment before gunicorn starts)
    from maestro_monitoring.multiprocess import mark_process_dead

    def child_exit(server, worker):
        mark_process_dead(worker.pid)
"""

from __future__ import annotations

from ._multiprocess import mark_process_dead, prepare_multiproc

__all__ = ["mark_process_dead", "prepare_multiproc"]
