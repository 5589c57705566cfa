"""pos_store_postgres: the PostgreSQL session store of pos_workflow.

Installing it registers the ``postgresql://`` and ``postgres://`` schemes with
:func:`pos_engine.open_store`, so ``pos-workflow serve --store postgresql://...`` runs
several servers on one set of sessions.
"""

from importlib.metadata import PackageNotFoundError, version

from ._migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from ._store import MAX_UPDATE_ATTEMPTS, PostgresSessionStore

try:
    __version__ = version("pos-store-postgres")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "MAX_UPDATE_ATTEMPTS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "PostgresSessionStore",
    "__version__",
]
