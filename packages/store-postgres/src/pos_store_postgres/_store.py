"""PostgresSessionStore: sessions in one PostgreSQL table, shared by any number of servers.

Concurrency is optimistic: an update reads the row and its version, runs the updater
with no lock held, and writes with ``UPDATE ... WHERE version = <read>``. When another
writer got there first, no row matches and the update starts over from the new
state (the :data:`~pos_engine.Updater` contract allows the re-run), so no update is
ever lost and none waits on a lock while an updater evaluates evidence.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, LiteralString
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pydantic
from pos_engine import (
    SESSION_STATUSES,
    ConflictError,
    CorruptSessionError,
    InternalError,
    NotFoundError,
    PosError,
    SchemaMigration,
    Session,
    SessionPage,
    SessionStatus,
    SessionStore,
    SessionSummary,
    StoreConfigError,
    StoreUnavailableError,
    Updater,
    ValidationError,
    page_request,
    redact_url,
)
from pos_engine._store import model_problem, require_stored_version
from pos_engine.guards import validate_session_id
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from ._migrations import (
    COUNTS_TABLE,
    CREATE_SCHEMA_TABLE,
    LOCK_KEY,
    MIGRATIONS,
    SCHEMA_TABLE,
    SCHEMA_VERSION,
    SESSIONS_TABLE,
)

__all__ = ["PostgresSessionStore"]

MAX_UPDATE_ATTEMPTS = 200
"""Optimistic rounds before an update gives up with a ConflictError (never reached in practice)."""

_POOL_PARAMS = {"pool_min_size": 1, "pool_max_size": 10, "pool_timeout": 10}
_SUMMARY_FIELDS = (
    "session_id",
    "workflow_type",
    "target_file",
    "current_phase",
    "total_phases",
    "status",
    "created_at",
    "last_updated",
)


def _q(template: LiteralString) -> sql.Composed:
    """A statement with its ``{placeholders}`` (tables, column lists, the order) filled in."""
    return sql.SQL(template).format(
        table=sql.Identifier(SESSIONS_TABLE),
        counts=sql.Identifier(COUNTS_TABLE),
        schema_table=sql.Identifier(SCHEMA_TABLE),
        summary=sql.SQL(
            "session_id, workflow_type, target_file, current_phase, total_phases, status, "
            "created_at, updated_at"
        ),
        write=sql.SQL(
            "(session_id, version, status, workflow_type, target_file, current_phase, "
            "total_phases, created_at, updated_at, document) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::json)"
        ),
        newest=sql.SQL("ORDER BY created_at DESC, session_id DESC"),
    )


_LOAD = _q("SELECT version, document::text FROM {table} WHERE session_id = %s")
_LOAD_MANY = _q(
    "SELECT session_id, version, document::text FROM {table} WHERE session_id = ANY(%s)"
)
_EXISTS = _q("SELECT EXISTS (SELECT 1 FROM {table} WHERE session_id = %s)")
_INSERT = _q("INSERT INTO {table} {write} ON CONFLICT (session_id) DO NOTHING")
_UPSERT = _q(
    "INSERT INTO {table} {write} "
    "ON CONFLICT (session_id) DO UPDATE SET version = EXCLUDED.version, "
    "status = EXCLUDED.status, workflow_type = EXCLUDED.workflow_type, "
    "target_file = EXCLUDED.target_file, current_phase = EXCLUDED.current_phase, "
    "total_phases = EXCLUDED.total_phases, created_at = EXCLUDED.created_at, "
    "updated_at = EXCLUDED.updated_at, document = EXCLUDED.document, stored_at = now()"
)
_UPDATE = _q(
    "UPDATE {table} SET version = %s, status = %s, workflow_type = %s, target_file = %s, "
    "current_phase = %s, total_phases = %s, created_at = %s, updated_at = %s, "
    "document = %s::json, stored_at = now() WHERE session_id = %s AND version = %s"
)
_DELETE = _q("DELETE FROM {table} WHERE session_id = %s")
_LIST = _q("SELECT {summary} FROM {table} {newest}")
_LIST_STATUS = _q("SELECT {summary} FROM {table} WHERE status = %s {newest}")
# Keyset pages: (filtered by status?, after a cursor?) -> statement. The row comparison
# is an index condition of the listing indexes, so a deep page costs what the first does.
_PAGE = {
    (False, False): _q("SELECT {summary} FROM {table} {newest} LIMIT %s"),
    (True, False): _q("SELECT {summary} FROM {table} WHERE status = %s {newest} LIMIT %s"),
    (False, True): _q(
        "SELECT {summary} FROM {table} WHERE (created_at, session_id) < (%s, %s) {newest} LIMIT %s"
    ),
    (True, True): _q(
        "SELECT {summary} FROM {table} "
        "WHERE status = %s AND (created_at, session_id) < (%s, %s) {newest} LIMIT %s"
    ),
}
# Totals come from the trigger-kept counters: one tiny read instead of a count(*) scan.
_COUNT = _q("SELECT coalesce(sum(sessions), 0) FROM {counts}")
_COUNT_STATUS = _q("SELECT coalesce(sum(sessions), 0) FROM {counts} WHERE status = %s")
_COUNT_BY_STATUS = _q("SELECT status, sessions FROM {counts} WHERE sessions <> 0")
# Monitoring's once-a-minute sample: one aggregate instead of every summary.
_COUNT_BY_KIND = _q("SELECT status, workflow_type, count(*) FROM {table} GROUP BY 1, 2")
_SCHEMA_VERSION = _q("SELECT coalesce(max(version), 0) FROM {schema_table}")
_SCHEMA_EXISTS = _q("SELECT to_regclass(%s) IS NOT NULL")
_RECORD_MIGRATION = _q("INSERT INTO {schema_table} (version, description) VALUES (%s, %s)")


def _row(session: Session) -> tuple[Any, ...]:
    """The column values of a session, in ``_WRITE_COLUMNS`` order."""
    return (
        session.session_id,
        session.version,
        session.status,
        session.workflow_type,
        session.target_file,
        session.current_phase,
        session.total_phases,
        session.created_at,
        session.updated_at,
        session.model_dump_json(),
    )


def _corrupt(session_id: str, problem: str) -> CorruptSessionError:
    return CorruptSessionError(
        f"session {session_id!r} is corrupt: its row {problem}",
        remediation="Restore the session from a backup (pos-workflow store copy), or delete it "
        "with delete_session and start a new one.",
        details={"session_id": session_id},
    )


def _not_found(session_id: str) -> NotFoundError:
    return NotFoundError(
        f"session {session_id!r} does not exist",
        remediation="Call list_sessions to see the existing sessions and use one of those.",
    )


def _parse(session_id: str, version: int, document: str) -> Session:
    """Validate a stored document against the model and its row."""
    try:
        session = Session.model_validate_json(document)
    except pydantic.ValidationError as exc:
        raise _corrupt(session_id, model_problem(exc)) from None
    if session.session_id != session_id:
        raise _corrupt(session_id, f"holds session id {session.session_id!r}")
    if session.version != version:
        raise _corrupt(session_id, f"says version {session.version} in a row of version {version}")
    return session


def _split_url(url: str) -> tuple[str, dict[str, int]]:
    """Take our pool settings out of the URL's query; return the libpq URL and them."""
    parts = urlsplit(url)
    ours: dict[str, int] = dict(_POOL_PARAMS)
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _POOL_PARAMS:
            kept.append((key, value))
            continue
        if not value.isdigit() or int(value) < 1:
            raise StoreConfigError(
                f"store URL parameter {key}={value!r} is not a positive integer",
                remediation=f"Write it as {key}=10, or leave it out (default {_POOL_PARAMS[key]}).",
            )
        ours[key] = int(value)
    if ours["pool_min_size"] > ours["pool_max_size"]:
        raise StoreConfigError(
            f"store URL sets pool_min_size={ours['pool_min_size']} over "
            f"pool_max_size={ours['pool_max_size']}",
            remediation="Make pool_min_size at most pool_max_size.",
        )
    libpq = urlunsplit(parts._replace(query=urlencode(kept)))
    return libpq, ours


class PostgresSessionStore(SessionStore):
    """Sessions in PostgreSQL: one row per session, safe for many servers at once.

    Open it with :meth:`from_url`; create or upgrade its schema with :meth:`migrate`
    (``pos-workflow store migrate``; :meth:`setup` does the same, idempotently); check it
    with :meth:`check_ready` before serving.

    Args:
        conninfo: A libpq URL (``postgresql://user:password@host:5432/db?sslmode=require``).
        min_size: Connections the pool keeps open.
        max_size: Connections the pool may open (each server thread holds one per call).
        timeout: Seconds a call waits for a pooled connection before it fails (when the
            pool is exhausted, or the database is down and cannot be reconnected).
        connect_timeout: Seconds to wait for a new connection.
    """

    kind: ClassVar[str] = "postgresql"

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
        connect_timeout: int = 10,
    ) -> None:
        self._where = redact_url(conninfo)
        self._lock = threading.Lock()
        self._corrupt: list[str] = []
        self.conflicts = 0
        """How many optimistic updates had to start over (for monitoring and tests)."""
        query = dict(parse_qsl(urlsplit(conninfo).query))
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in query:
            kwargs["connect_timeout"] = connect_timeout
        if "application_name" not in query:
            kwargs["application_name"] = "pos-workflow"
        try:
            # One plain connection first: the pool would retry quietly, and hide why it fails.
            psycopg.connect(conninfo, **kwargs).close()
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot connect to the PostgreSQL session store at {self._where}: "
                f"{_first_line(exc)}",
                remediation="Check the host, port, database name, user and password of the "
                "store URL, and that the server accepts connections from this host.",
            ) from None
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs=kwargs,
            timeout=timeout,
            check=ConnectionPool.check_connection,
            name="pos-workflow",
            open=False,
        )
        self._pool.open(wait=False)

    @classmethod
    def from_url(cls, url: str) -> PostgresSessionStore:
        """Open the store at a ``postgresql://`` (or ``postgres://``) URL.

        Besides libpq's parameters the URL may carry ``pool_min_size`` (default 1) and
        ``pool_max_size`` (default 10), the connection pool's bounds, and ``pool_timeout``
        (seconds a call waits for a connection, default 10).

        Raises:
            StoreConfigError: a pool parameter is malformed.
            StoreUnavailableError: the server cannot be reached or refuses the login.
        """
        libpq, pool = _split_url(url)
        return cls(
            libpq,
            min_size=pool["pool_min_size"],
            max_size=pool["pool_max_size"],
            timeout=pool["pool_timeout"],
        )

    def describe(self) -> str:
        """Say where the sessions live (the URL without its password)."""
        return f"PostgreSQL store at {self._where}"

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()

    # -- schema --------------------------------------------------------------------------

    def setup(self) -> None:
        """Apply the schema migrations this database lacks (idempotent; see :meth:`migrate`)."""
        self.migrate()

    def migrate(self) -> SchemaMigration:
        """Apply pending migrations in one transaction, serialised by an advisory lock.

        Servers and ``store migrate`` runs racing each other are safe: the second
        waits, then finds nothing left to do.

        Raises:
            StoreUnavailableError: the database's schema is newer than this package knows.
        """
        with (
            self._errors("migrate the schema"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            conn.execute(sql.SQL(CREATE_SCHEMA_TABLE))
            before = self._version(conn)
            self._refuse_newer(before)
            applied = []
            for migration in MIGRATIONS[before:]:
                for statement in migration.statements:
                    conn.execute(sql.SQL(statement))  # our own text, never input
                conn.execute(_RECORD_MIGRATION, (migration.version, migration.description))
                applied.append(f"{migration.version}: {migration.description}")
        return SchemaMigration(before=before, after=SCHEMA_VERSION, applied=tuple(applied))

    def schema_version(self) -> int:
        """Return the schema version the database is at (0: no schema yet)."""
        with self._errors("read the schema version"), self._pool.connection() as conn:
            row = conn.execute(_SCHEMA_EXISTS, (SCHEMA_TABLE,)).fetchone()
            if row is None or not row[0]:
                return 0
            return self._version(conn)

    def check_ready(self) -> None:
        """Refuse to serve on a schema that is missing, behind or ahead of this package.

        Raises:
            StoreUnavailableError: with the command that fixes it.
        """
        version = self.schema_version()
        self._refuse_newer(version)
        if version < SCHEMA_VERSION:
            found = (
                "has no pos_workflow schema yet"
                if version == 0
                else (
                    f"is at schema version {version}, behind the {SCHEMA_VERSION} this "
                    "pos-store-postgres needs"
                )
            )
            raise StoreUnavailableError(
                f"the PostgreSQL session store at {self._where} {found}",
                remediation=f"Run `pos-workflow store migrate --store '{self._where}'` "
                "(with the real password), then start the server again.",
            )

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(_SCHEMA_VERSION).fetchone()
        return int(row[0]) if row else 0

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreUnavailableError(
                f"the PostgreSQL session store at {self._where} is at schema version {version}, "
                f"newer than the {SCHEMA_VERSION} this pos-store-postgres knows",
                remediation="Upgrade pos-store-postgres on this host to the release that "
                "migrated the database.",
            )

    # -- the contract --------------------------------------------------------------------

    def create(self, session: Session) -> Session:
        """Store a new session at version 1 and return it as stored.

        Raises:
            ConflictError: a session with this id exists.
            ValidationError: the session id is not valid.
        """
        validate_session_id(session.session_id)
        stored = session.model_copy(update={"version": 1})
        with self._errors("create", session.session_id), self._pool.connection() as conn:
            written = conn.execute(_INSERT, _row(stored)).rowcount
        if written != 1:
            raise ConflictError(
                f"session {session.session_id!r} already exists",
                remediation="Choose another session id, or delete the existing session first.",
            )
        return stored

    def load(self, session_id: str) -> Session:
        """Return the stored session.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the row's document is not a valid session.
        """
        version, document = self._read(session_id)
        return _parse(session_id, version, document)

    def _read(self, session_id: str) -> tuple[int, str]:
        validate_session_id(session_id)
        with self._errors("load", session_id), self._pool.connection() as conn:
            row = conn.execute(_LOAD, (session_id,)).fetchone()
        if row is None:
            raise _not_found(session_id)
        return int(row[0]), str(row[1])

    def load_many(self, session_ids: Iterable[str]) -> tuple[dict[str, Session], list[str]]:
        """Load several sessions in one query; see :meth:`SessionStore.load_many`."""
        ids = [validate_session_id(sid) for sid in dict.fromkeys(session_ids)]
        if not ids:
            return {}, []
        with self._errors("load sessions"), self._pool.connection() as conn:
            rows = conn.execute(_LOAD_MANY, (ids,)).fetchall()
        by_id = {row[0]: (int(row[1]), str(row[2])) for row in rows}
        found: dict[str, Session] = {}
        unreadable: list[str] = []
        for sid in ids:
            if sid not in by_id:
                continue
            try:
                found[sid] = _parse(sid, *by_id[sid])
            except CorruptSessionError:
                unreadable.append(sid)
        return found, unreadable

    def update(self, session_id: str, updater: Updater) -> Session:
        """Apply ``updater`` optimistically and return the session as stored.

        ``updater`` may run more than once: each time another writer changed the
        session between the read and the write, it runs again on the new state.

        Raises:
            NotFoundError: no such session (or it was deleted meanwhile).
            CorruptSessionError: the stored document cannot be read.
            ValidationError: ``updater`` changed the session id.
            ConflictError: the session kept changing for :data:`MAX_UPDATE_ATTEMPTS` rounds.
        """
        validate_session_id(session_id)
        # One pooled connection for every round; no transaction is open while the updater runs.
        with self._errors("update", session_id), self._pool.connection() as conn:
            for attempt in range(MAX_UPDATE_ATTEMPTS):
                row = conn.execute(_LOAD, (session_id,)).fetchone()
                if row is None:
                    raise _not_found(session_id)
                version, document = int(row[0]), str(row[1])
                current = _parse(session_id, version, document)
                # A second parse is the updater's private copy (cheaper than a deep copy).
                result = updater(Session.model_validate_json(document))
                if result is None:
                    return current
                if result.session_id != session_id:
                    raise ValidationError(
                        f"an update of session {session_id!r} changed its id",
                        remediation="Leave session_id unchanged in the updater.",
                    )
                stored = result.model_copy(update={"version": version + 1})
                values = _row(stored)
                if conn.execute(_UPDATE, (*values[1:], session_id, version)).rowcount == 1:
                    return stored
                with self._lock:
                    self.conflicts += 1
                # Jittered backoff: writers that collided should not collide again in lockstep.
                time.sleep(random.uniform(0, min(0.05, 0.0005 * 2 ** min(attempt, 7))))  # noqa: S311
        raise ConflictError(
            f"session {session_id!r} changed under {MAX_UPDATE_ATTEMPTS} attempts to update it",
            remediation="Retry the call; if it keeps failing, fewer clients should write to "
            "this session at once.",
        )

    def import_session(self, session: Session, *, replace: bool = False) -> bool:
        """Store ``session`` as given, version included; see :meth:`SessionStore.import_session`."""
        validate_session_id(session.session_id)
        require_stored_version(session)
        statement = _UPSERT if replace else _INSERT
        with self._errors("import", session.session_id), self._pool.connection() as conn:
            written = conn.execute(statement, _row(session)).rowcount
        return written == 1

    def delete(self, session_id: str) -> bool:
        """Remove the session; return whether it existed."""
        validate_session_id(session_id)
        with self._errors("delete", session_id), self._pool.connection() as conn:
            return conn.execute(_DELETE, (session_id,)).rowcount == 1

    def exists(self, session_id: str) -> bool:
        """Return whether a row (readable or not) is stored under this id."""
        validate_session_id(session_id)
        with self._errors("look up", session_id), self._pool.connection() as conn:
            row = conn.execute(_EXISTS, (session_id,)).fetchone()
        return bool(row and row[0])

    # -- listing -------------------------------------------------------------------------

    def _summaries(self, rows: Iterable[tuple[Any, ...]]) -> list[SessionSummary]:
        summaries, corrupt = [], []
        for row in rows:
            try:
                summaries.append(
                    SessionSummary.model_validate(dict(zip(_SUMMARY_FIELDS, row, strict=True)))
                )
            except pydantic.ValidationError:
                corrupt.append(str(row[0]))
        with self._lock:
            self._corrupt = sorted(corrupt)
        return summaries

    def list_summaries(self, status: SessionStatus | None = None) -> list[SessionSummary]:
        """Return every session's summary, newest ``created_at`` first (ties: id descending).

        Summaries come from the row's columns, not its document: a row whose columns
        are not a valid summary is left out and reported by :meth:`corrupt_ids`.
        """
        with self._errors("list sessions"), self._pool.connection() as conn:
            if status is None:
                rows = conn.execute(_LIST).fetchall()
            else:
                rows = conn.execute(_LIST_STATUS, (status,)).fetchall()
        return self._summaries(rows)

    def list_page(
        self,
        status: SessionStatus | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage:
        """Return one page of the listing through the listing indexes (keyset, no OFFSET).

        A page costs one index range scan of ``limit`` rows plus a read of the
        trigger-kept counters, however deep it is and however many sessions there are;
        see :meth:`SessionStore.list_page` for the contract.
        """
        size, after = page_request(limit, cursor)
        params: list[Any] = [] if status is None else [status]
        if after is not None:
            params += list(after)
        query = _PAGE[(status is not None, after is not None)]
        with self._errors("list sessions"), self._pool.connection() as conn:
            rows = conn.execute(query, (*params, size + 1)).fetchall()
            counted = (
                conn.execute(_COUNT).fetchone()
                if status is None
                else conn.execute(_COUNT_STATUS, (status,)).fetchone()
            )
        total = int(counted[0]) if counted else 0
        return SessionPage.of(self._summaries(rows[:size]), total=total, more=len(rows) > size)

    def corrupt_ids(self) -> list[str]:
        """Return the ids of the rows the last listing could not read."""
        with self._lock:
            return list(self._corrupt)

    def count_by_status(self) -> dict[str, int]:
        """Return how many sessions are in each status (from the trigger-kept counters)."""
        with self._errors("count sessions"), self._pool.connection() as conn:
            rows = conn.execute(_COUNT_BY_STATUS).fetchall()
        counts: dict[str, int] = dict.fromkeys(SESSION_STATUSES, 0)
        counts.update({str(status): int(n) for status, n in rows})
        return counts

    def count_by_kind(self) -> Counter[tuple[str, str]]:
        """Return how many sessions there are of each (status, workflow_type), in one query."""
        with self._errors("count sessions"), self._pool.connection() as conn:
            rows = conn.execute(_COUNT_BY_KIND).fetchall()
        return Counter({(str(status), str(kind)): int(n) for status, kind, n in rows})

    # -- errors --------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, session_id: str | None = None) -> Iterator[None]:
        """Turn driver errors into the engine's, without the URL or the server's words.

        The message a client may see names only the kind of failure; the chained
        exception (logged by the server) keeps libpq's full text.
        """
        subject = f"{action} session {session_id!r}" if session_id else action
        try:
            yield
        except PosError:
            raise
        except psycopg.errors.UndefinedTable as exc:
            raise StoreUnavailableError(
                f"could not {subject}: the PostgreSQL session store has no pos_workflow schema",
                remediation="Run `pos-workflow store migrate --store URL`, then retry.",
            ) from exc
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailableError(
                f"could not {subject}: the PostgreSQL session store is unavailable "
                f"({type(exc).__name__})",
                remediation="Retry in a moment; if it persists, check the database server.",
            ) from exc
        except psycopg.Error as exc:
            raise InternalError(
                f"could not {subject}: PostgreSQL refused it ({type(exc).__name__})",
            ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
