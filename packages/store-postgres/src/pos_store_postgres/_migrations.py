"""The schema of the PostgreSQL session store: an append-only list of versioned migrations.

Never edit or reorder a migration that has shipped: a database records the versions
it applied in ``pos_workflow_schema`` and only the ones after its last are run. A
change is a new migration at the end. ``tests/test_migrations.py`` pins the text of
each shipped migration so that an edit fails the tests.

Sessions are JSON documents (``document``, type ``json``: kept verbatim, any JSON
string allowed) next to the columns listing needs. Statuses are not constrained here:
the engine's model decides which exist, and new ones need no migration.

How many sessions are in each status is kept exact by triggers in
``pos_workflow_session_counts``, so a page's ``total`` costs one small read at any
size. Only creations, deletions and status changes touch it (creations and deletions
once per statement, so COPY stays fast); a status change moves two counters, always
locking them in status order, so concurrent writers cannot deadlock.
(``TRUNCATE`` skips triggers: truncate both tables together, or neither.)
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
COUNTS_TABLE = "pos_workflow_session_counts"
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

# The statements are literal text, never built from constants: a shipped migration must
# stay byte for byte what databases ran.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions as JSON documents, with the columns and indexes of the listing",
        (
            """
            CREATE TABLE pos_workflow_sessions (
                session_id    text COLLATE "C" PRIMARY KEY,
                version       bigint NOT NULL CHECK (version >= 1),
                status        text COLLATE "C" NOT NULL,
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
            "CREATE INDEX pos_workflow_sessions_listing "
            "ON pos_workflow_sessions (created_at, session_id)",
            "CREATE INDEX pos_workflow_sessions_status_listing "
            "ON pos_workflow_sessions (status, created_at, session_id)",
            """
            CREATE TABLE pos_workflow_session_counts (
                status   text COLLATE "C" PRIMARY KEY,
                sessions bigint NOT NULL
            )""",
            # Creations and deletions: once per statement over its transition table, so a
            # bulk load (COPY) costs one aggregate, not one counter update per row.
            """
            CREATE FUNCTION pos_workflow_session_counts_add() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO pos_workflow_session_counts AS c (status, sessions)
                    SELECT status, count(*) FROM added GROUP BY status ORDER BY status
                    ON CONFLICT (status) DO UPDATE SET sessions = c.sessions + EXCLUDED.sessions;
                RETURN NULL;
            END
            $$""",
            """
            CREATE FUNCTION pos_workflow_session_counts_remove() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE pos_workflow_session_counts AS c SET sessions = c.sessions - gone.n
                    FROM (SELECT status, count(*) AS n FROM removed GROUP BY status) AS gone
                    WHERE c.status = gone.status;
                RETURN NULL;
            END
            $$""",
            # A status change moves two counters: lock them in status order, whichever way
            # the session moves, so that two writers can never wait on each other.
            """
            CREATE FUNCTION pos_workflow_session_counts_move() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO pos_workflow_session_counts AS c (status, sessions)
                    SELECT status, delta FROM (VALUES (OLD.status, -1), (NEW.status, 1))
                        AS moved (status, delta) ORDER BY status
                    ON CONFLICT (status) DO UPDATE SET sessions = c.sessions + EXCLUDED.sessions;
                RETURN NULL;
            END
            $$""",
            """
            CREATE TRIGGER pos_workflow_sessions_count_added
                AFTER INSERT ON pos_workflow_sessions REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION pos_workflow_session_counts_add()""",
            """
            CREATE TRIGGER pos_workflow_sessions_count_removed
                AFTER DELETE ON pos_workflow_sessions REFERENCING OLD TABLE AS removed
                FOR EACH STATEMENT EXECUTE FUNCTION pos_workflow_session_counts_remove()""",
            """
            CREATE TRIGGER pos_workflow_sessions_count_moved
                AFTER UPDATE OF status ON pos_workflow_sessions
                FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
                EXECUTE FUNCTION pos_workflow_session_counts_move()""",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this package reads and writes."""
