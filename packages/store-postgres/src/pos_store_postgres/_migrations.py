"""The schema of the PostgreSQL session store: an append-only list of versioned migrations.

Never edit or reorder a migration that has shipped: a database records the versions
it applied in ``pos_workflow_schema`` and only the ones after its last are run. A
change is a new migration at the end. ``tests/test_migrations.py`` pins the text of
each shipped migration so that an edit fails the tests.

Sessions are JSON documents (``document``, type ``json``: kept verbatim, any JSON
string allowed) next to the columns listing needs. Statuses are not constrained here:
the engine's model decides which exist, and new ones need no migration.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LOCK_KEY",
    "MIGRATIONS",
    "SCHEMA_TABLE",
    "SCHEMA_VERSION",
    "SESSIONS_TABLE",
    "Migration",
]

SESSIONS_TABLE = "pos_workflow_sessions"
SCHEMA_TABLE = "pos_workflow_schema"

LOCK_KEY = 0x706F735F736368  # "pos_sch": the advisory lock that serialises migrations


@dataclass(frozen=True)
class Migration:
    """One step of the schema, applied in a single transaction.

    Attributes:
        version: Its number, the 1-based position in :data:`MIGRATIONS`.
        description: One line for ``store migrate`` and the schema table.
        statements: SQL run in order.
    """

    version: int
    description: str
    statements: tuple[str, ...]


CREATE_SCHEMA_TABLE = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (
    version     integer PRIMARY KEY,
    description text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions as JSON documents, with the columns and indexes of the listing",
        (
            f"""
            CREATE TABLE {SESSIONS_TABLE} (
                session_id    text COLLATE "C" PRIMARY KEY,
                version       bigint NOT NULL CHECK (version >= 1),
                status        text NOT NULL,
                workflow_type text NOT NULL,
                target_file   text NOT NULL,
                current_phase integer NOT NULL,
                total_phases  integer NOT NULL,
                created_at    text COLLATE "C" NOT NULL,
                updated_at    text NOT NULL,
                document      json NOT NULL,
                stored_at     timestamptz NOT NULL DEFAULT now()
            )""",
            # Newest first is a backward scan of these; the "C" collation sorts as Python does.
            f"CREATE INDEX {SESSIONS_TABLE}_listing ON {SESSIONS_TABLE} (created_at, session_id)",
            f"CREATE INDEX {SESSIONS_TABLE}_status_listing "
            f"ON {SESSIONS_TABLE} (status, created_at, session_id)",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this package reads and writes."""
