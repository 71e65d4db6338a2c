"""Storage engines, one module each: ``base`` (the interface and migrations), ``sqlite``
(the default) and ``postgres`` (``[postgres]`` extra, imported only when a URL asks for it).
"""

from .base import Backend, Cursor, Row, migrate
from .sqlite import SQLiteBackend

__all__ = ["Backend", "Cursor", "Row", "SQLiteBackend", "migrate"]
