"""Production-ready SQLAlchemy 2 for Maestro services."""

from ._version import __version__

__all__ = ["__version__"]
