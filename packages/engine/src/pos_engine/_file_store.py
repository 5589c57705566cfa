"""A durable session store on a local POSIX filesystem: one JSON file per session.

Layout of the state folder::

    <session_id>.json                the record (mode 0600), replaced atomically by every write
    .locks/<session_id>.lock         sidecar that ``flock`` serialises read-modify-write on
                                     (in a subfolder so that listing scans only records)
    .<session_id>.<pid>.<hex>.tmp    a write in progress; the pid lets ``setup`` reap orphans
    .index/log                       the listing's shared change log (see ``_file_index``)

Crash safety comes from write-temp, fsync, rename, fsync-folder; concurrency safety
from an exclusive ``flock`` on the sidecar, held from the read to the rename. Every
write appends its entry to the change log before its rename, so listings in every
process see it at once without scanning the folder.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import stat
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pydantic

from ._bounded import BoundedInputError, check_depth, read_bounded_bytes
from ._durable import fsync_dir
from ._file_index import (
    INDEX_DIR,
    VERIFY_SECONDS,
    FileIndex,
    abort_entry,
    delete_entry,
    put_entry,
    signature,
)
from ._file_listing import Sig, values_of
from ._models import SESSION_STATUSES, Session, SessionStatus, SessionSummary
from ._nonblocking import acquire, require_io
from ._paging import SessionPage, page_request
from ._store import SessionStore, Updater, model_problem, require_stored_version
from .exceptions import (
    ConflictError,
    CorruptSessionError,
    InternalError,
    LimitError,
    NotFoundError,
    ValidationError,
)

__all__ = ["MAX_RECORD_BYTES", "MAX_RECORD_DEPTH", "FileSessionStore"]

MAX_RECORD_BYTES = 64 * 1024 * 1024
"""Largest session record read or written; a write that would pass it is refused."""

MAX_RECORD_DEPTH = 100
"""Deepest nesting accepted in a session record (evidence itself is limited to 64 levels)."""

# fullmatch, never ``$``: ``$`` also matches before a trailing newline.
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
_TEMP_RE = re.compile(r"\.[a-z0-9][a-z0-9_-]{0,127}\.(\d+)\.[0-9a-f]+\.tmp")
_STALE_TEMP_SECONDS = 3600
# On a filesystem with whole-second (or coarser) timestamps, a record rewritten in place
# by hand within the same tick keeps its signature; such a record is cached only once
# its mtime is this much in the past.
_SETTLED_COARSE_NS = 2_000_000_000

CACHED_RECORD_BYTES = 256 * 1024
"""Largest record kept in memory for reads (and so answered without a thread hop)."""
_CACHE_ENTRIES = 512
_CACHE_BYTES = 32 * 1024 * 1024

_SUMMARY_KEYS = {name: name for name in SessionSummary.model_fields} | {
    "last_updated": "updated_at"
}


def _valid_id(session_id: str) -> bool:
    return _ID_RE.fullmatch(session_id) is not None


def _settled(sig: Sig) -> bool:
    """Whether the signature tells this record apart from an in-place rewrite of it."""
    return sig[0] % 1_000_000 != 0 or sig[0] <= time.time_ns() - _SETTLED_COARSE_NS


class _Cached:
    """A record in memory: its signature, its bytes, and the session parsed from them."""

    __slots__ = ("data", "session", "sig")

    def __init__(self, sig: Sig, data: bytes, session: Session | None) -> None:
        self.sig, self.data, self.session = sig, data, session


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False  # kill(0, ...) would address our own process group
    try:
        os.kill(pid, 0)
    except OverflowError:
        return False
    except OSError as exc:
        return exc.errno == errno.EPERM  # it exists but belongs to another user
    return True


@contextmanager
def _os_errors(session_id: str, action: str) -> Iterator[None]:
    """Turn an OSError into an InternalError: ``str(OSError)`` names an absolute path."""
    try:
        yield
    except OSError as exc:
        raise InternalError(
            f"could not {action} session {session_id!r}: {exc.strerror or type(exc).__name__}",
            remediation="Check free space and permissions of the session state folder, then retry.",
        ) from exc


def _corrupt(session_id: str, problem: str) -> CorruptSessionError:
    return CorruptSessionError(
        f"session {session_id!r} is corrupt: its record {problem}",
        details={"session_id": session_id},
    )


def _read_record(path: str) -> bytes:
    """Read a record file: never through a symlink, only a regular file, size-capped.

    State files are only ever written by a store, never as links, FIFOs or devices: anything
    else in the folder (a link to /dev/zero, a FIFO no one writes to) is refused at once.
    """
    return read_bounded_bytes(path, limit=MAX_RECORD_BYTES)


def _read_summary(path: str, session_id: str) -> SessionSummary:
    # Parsing the JSON is unavoidable, but skipping the full model keeps big evidence cheap.
    data: Any = json.loads(_read_record(path))
    if data["session_id"] != session_id:
        raise ValueError("session id does not match the file name")
    return SessionSummary.model_validate({key: data[src] for key, src in _SUMMARY_KEYS.items()})


def _record_bytes(session: Session) -> bytes:
    """The record's JSON, compact; pydantic's own encoder, about 5x faster than ``json``."""
    try:
        return session.model_dump_json().encode()
    except ValueError:  # a lone surrogate, which UTF-8 cannot hold: json escapes it
        return json.dumps(session.model_dump(mode="json"), separators=(",", ":")).encode()


class FileSessionStore(SessionStore):  # pylint: disable=too-many-public-methods
    """Sessions as JSON files in one folder, safe across threads, processes and crashes.

    Requires a local POSIX filesystem (``fcntl.flock``, ``os.link``, atomic ``os.replace``).
    Opening a store runs :meth:`setup`.

    Listings come from a change log that every store appends to as it writes (see
    ``pos_engine._file_index``): a page costs a read of what was appended since the last
    one and a stat per write still in flight, however many sessions there are. A record
    changed by something other than a store (by hand, a backup tool, an older version)
    is seen at the next verification: every ``verify_seconds``, or :meth:`verify`.

    Args:
        state_dir: The folder holding the session files; created (mode 0700) if missing.
            An existing folder keeps the mode its owner gave it.
        durable: ``fsync`` every file and folder change. Turn off only for tests and
            throwaway runs: a power loss may then lose recent writes (never corrupt them).
        verify_seconds: How often a listing checks every record's stat signature
            (None: only when :meth:`verify` is called).
    """

    kind: ClassVar[str] = "file"
    nonblocking_reads: ClassVar[bool] = True

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        *,
        durable: bool = True,
        verify_seconds: float | None = VERIFY_SECONDS,
    ) -> None:
        self._dir = Path(state_dir).absolute()
        self._dir_name = os.fspath(self._dir)  # every call joins a name to it: join strings
        self._locks = self._dir / ".locks"
        self._durable = durable
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_bytes = 0
        self._index = FileIndex(
            self._dir,
            valid_id=_valid_id,
            read_summary=_read_summary_of,
            session_lock=self._settling,
            verify_seconds=verify_seconds,
        )
        self.setup()

    @classmethod
    def from_project(
        cls, project_root: str | os.PathLike[str], *, durable: bool = True
    ) -> FileSessionStore:
        """Open the store of a project: ``<project_root>/.praxis-os/state/workflows``."""
        return cls(cls.project_state_dir(project_root), durable=durable)

    @staticmethod
    def project_state_dir(project_root: str | os.PathLike[str]) -> Path:
        """The folder a project's sessions live in (``.praxis-os/state/workflows``)."""
        return Path(project_root) / ".praxis-os" / "state" / "workflows"

    @staticmethod
    def project_index_dir(project_root: str | os.PathLike[str]) -> Path:
        """The folder of a project's store index: a cache any store open rebuilds if missing.

        Its bytes depend on the order of writes, not only on the sessions, so a comparison
        of a project before and after (a cutover's rollback) leaves it out.
        """
        return FileSessionStore.project_state_dir(project_root) / INDEX_DIR

    @property
    def state_dir(self) -> Path:
        """The absolute path of the folder holding the session files."""
        return self._dir

    def describe(self) -> str:
        """Say where the sessions live: the state folder's name (no absolute path)."""
        return (
            f"file store ({self._dir.parent.parent.name}/{self._dir.parent.name}/{self._dir.name})"
        )

    def setup(self) -> None:
        """Create the folder and its index if missing; remove temp files of dead writers."""
        self._dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._dir.mkdir(mode=0o700)
        except FileExistsError:
            pass  # an existing folder keeps the mode its owner chose (it may share it on purpose)
        else:
            os.chmod(self._dir, 0o700)  # mkdir's mode is narrowed by the umask; be exact
        if not self._dir.is_dir():
            raise InternalError(
                "the session state path exists but is not a folder",
                remediation="Move the file that occupies the session state path out of the way.",
            )
        self._locks.mkdir(mode=0o700, exist_ok=True)
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for folder in (self._dir, self._dir / INDEX_DIR):
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                match = _TEMP_RE.fullmatch(entry.name)
                if match is None:
                    continue
                try:
                    if _pid_alive(int(match[1])) and entry.stat().st_mtime >= cutoff:
                        continue  # probably a write in progress; the age limit covers pid reuse
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass  # its writer renamed or removed it meanwhile
        with _os_errors("(index)", "index"):
            self._index.setup()

    def close(self) -> None:
        """Close the change log."""
        self._index.close()

    def create(self, session: Session) -> Session:
        """Store a new session at version 1 and return it as stored.

        Raises:
            ConflictError: a session with this id exists.
            ValidationError: the session id is not a valid id.
        """
        session_id = session.session_id
        final = self._path(session_id)
        stored = session.model_copy(update={"version": 1})
        if not self._link_new(session_id, final, stored):
            raise ConflictError(
                f"session {session_id!r} already exists",
                remediation="Choose another session id, or delete the existing session first.",
            )
        return stored

    def _link_new(self, session_id: str, final: str, stored: Session) -> bool:
        """Write ``stored`` under a new id (never over an existing record); return whether it was."""
        # Held so that compaction never settles this write's entry while it is in flight;
        # _settling removes the lock file again when no record results.
        with self._settling(session_id), _os_errors(session_id, "create"):
            tmp, sig, data = self._write_temp(stored)
            try:
                size = self._index.append(put_entry(session_id, sig, values_of(stored.summary())))
                try:
                    os.link(tmp, final)  # unlike rename, link never overwrites: exclusive, atomic
                except BaseException as exc:
                    self._index.append(abort_entry(session_id, sig))
                    if isinstance(exc, FileExistsError):
                        return False
                    raise
            finally:
                os.unlink(tmp)
            self._fsync_dir()
        self._remember(session_id, sig, data)
        self._index.compact_if_large(size)
        return True

    def load(self, session_id: str) -> Session:
        """Return the stored session (a private copy).

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the file cannot be read, parsed or validated.
        """
        require_io()
        return self._read(session_id)[0]

    def peek(self, session_id: str) -> Session:
        """Return the stored session, shared with the store's cache: never change it.

        A record of at most ``CACHED_RECORD_BYTES`` is kept in memory, checked against
        its file by one ``stat`` per call.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the file cannot be read, parsed or validated.
            WouldBlock: inside ``nonblocking()``, when the record must be read from disk.
        """
        path = self._path(session_id)
        try:
            sig = signature(os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            raise _not_found(session_id) from None
        except OSError:
            sig = None
        acquire(self._cache_lock)
        try:
            cached = self._cache.get(session_id)
            if cached is not None and cached.sig == sig:
                self._cache.move_to_end(session_id)
                if cached.session is None:
                    cached.session = Session.model_validate_json(cached.data)
                return cached.session
        finally:
            self._cache_lock.release()
        require_io()
        session, data, read_sig = self._read(session_id)
        if read_sig is not None and read_sig == sig:
            self._remember(session_id, read_sig, data, session)
        return session

    def _read(self, session_id: str) -> tuple[Session, bytes, Sig | None]:
        """Read and check a record; return it, its bytes and its signature before the read."""
        path = self._path(session_id)
        try:
            sig: Sig | None = signature(os.stat(path, follow_symlinks=False))
        except OSError:
            sig = None
        try:
            raw = _read_record(path)
        except FileNotFoundError:
            raise _not_found(session_id) from None
        except BoundedInputError as exc:
            raise _corrupt(session_id, str(exc)) from None
        except OSError as exc:
            raise _corrupt(session_id, f"cannot be read ({exc.strerror})") from None
        try:
            data = json.loads(raw)
            check_depth(data, MAX_RECORD_DEPTH)
        except (ValueError, RecursionError) as exc:  # JSON, UTF-8 and depth errors
            raise _corrupt(session_id, f"is not valid JSON ({str(exc)[:200]})") from None
        try:
            session = Session.model_validate(data)
        except pydantic.ValidationError as exc:
            raise _corrupt(session_id, model_problem(exc)) from None
        if session.session_id != session_id:
            raise _corrupt(session_id, f"holds session id {session.session_id!r}")
        return session, raw, sig

    def _current(self, session_id: str) -> Session:
        """Return a private copy of the record, from memory when its signature still matches."""
        try:
            sig = signature(os.stat(self._path(session_id), follow_symlinks=False))
        except FileNotFoundError:
            raise _not_found(session_id) from None
        with self._cache_lock:
            cached = self._cache.get(session_id)
            data = cached.data if cached is not None and cached.sig == sig else None
        if data is not None:
            return Session.model_validate_json(data)  # our own bytes: already checked
        return self._read(session_id)[0]

    def update(self, session_id: str, updater: Updater) -> Session:
        """Apply ``updater`` under an exclusive lock and return the session as stored.

        ``updater`` gets a private copy and must not call this store for the same session
        (the lock is not re-entrant). The store sets ``version``; ``updated_at`` is the
        caller's. If ``updater`` returns None or raises, nothing is written.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the stored record cannot be read.
            ValidationError: ``updater`` changed the session id.
        """
        with self._locked(session_id) as lock_path:
            try:
                current = self._current(session_id)
            except NotFoundError:
                # Leave no lock file behind for an id that does not exist.
                Path(lock_path).unlink(missing_ok=True)
                raise
            version = current.version
            result = updater(current)
            if result is None:
                return self._current(session_id)  # the updater may have changed its copy
            if result.session_id != session_id:
                raise ValidationError(
                    f"an update of session {session_id!r} changed its id",
                    remediation="Leave session_id unchanged in the updater.",
                )
            stored = result.model_copy(update={"version": version + 1})
            size = self._replace(session_id, stored, "update")
        self._index.compact_if_large(size)
        return stored

    def _replace(self, session_id: str, stored: Session, action: str) -> int:
        """Write ``stored`` over the record; caller holds the session's lock. Returns the log size."""
        with _os_errors(session_id, action):
            tmp, sig, data = self._write_temp(stored)
            try:
                size = self._index.append(put_entry(session_id, sig, values_of(stored.summary())))
                try:
                    os.replace(tmp, self._path(session_id))
                except BaseException:
                    self._index.append(abort_entry(session_id, sig))
                    raise
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._fsync_dir()
        self._remember(session_id, sig, data)
        return size

    def import_session(self, session: Session, *, replace: bool = False) -> bool:
        """Store ``session`` exactly as given, version included; return whether it was written.

        Without ``replace`` an existing file is left alone (the link is exclusive);
        with it the file is replaced under the session's lock, atomically.

        Raises:
            ValidationError: the version is below 1, or the session id is not valid.
        """
        session_id = session.session_id
        final = self._path(session_id)
        require_stored_version(session)
        stored = session.model_copy(deep=True)
        if not replace:
            return self._link_new(session_id, final, stored)
        with self._locked(session_id):
            size = self._replace(session_id, stored, "import")
        self._index.compact_if_large(size)
        return True

    def delete(self, session_id: str) -> bool:
        """Remove the session and its lock file; return whether it existed."""
        path = self._path(session_id)
        size = 0
        with self._locked(session_id) as lock_path, _os_errors(session_id, "delete"):
            existed = os.path.lexists(path)
            if existed:
                size = self._index.append(delete_entry(session_id))
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    existed = False
            # Unlinked while held: a waiter then sees it holds an orphan and starts over.
            Path(lock_path).unlink(missing_ok=True)
            self._fsync_dir()
        self._forget(session_id)
        self._index.compact_if_large(size)
        return existed

    def exists(self, session_id: str) -> bool:
        """Return whether a record (readable or not) is stored under this id."""
        return os.path.exists(self._path(session_id))

    # -- listing --------------------------------------------------------------------------

    def list_summaries(self, status: SessionStatus | None = None) -> list[SessionSummary]:
        """Return the readable sessions' summaries, newest ``created_at`` first.

        Ties are ordered by session id, descending. The listing comes from the change
        log, never from a scan of the folder (see the class docstring).
        """
        with self._index.reading() as listing:
            return listing.summaries(status)

    def list_page(
        self,
        status: SessionStatus | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage:
        """Return one page of the listing from the index (see :meth:`SessionStore.list_page`).

        Costs a binary search and ``limit`` summaries, however many sessions there are.
        """
        size, after = page_request(limit, cursor)
        with self._index.reading() as listing:
            page, total, more = listing.page(status, size, after)
        return SessionPage.of(page, total=total, more=more)

    def corrupt_ids(self) -> list[str]:
        """Return the ids of the records the index found unreadable."""
        with self._index.reading() as listing:
            return sorted(listing.corrupt)

    def count_by_status(self) -> dict[str, int]:
        """Return how many readable sessions are in each status."""
        counts: Counter[str] = Counter()
        for (status, _), count in self.count_by_kind().items():
            counts[status] += count
        return {status: counts[status] for status in SESSION_STATUSES}

    def count_by_kind(self) -> Counter[tuple[str, str]]:
        """Return how many readable sessions there are of each (status, workflow_type)."""
        with self._index.reading() as listing:
            return listing.kinds()

    def verify(self) -> None:
        """Check every record against the listing now, reading those that changed.

        A listing sees every write made through a store at once; this also sees files
        added, edited or removed by other means, and records that became unreadable.
        """
        self._index.verify()

    # -- internals -----------------------------------------------------------------------

    def _path(self, session_id: str, suffix: str = ".json", folder: Path | None = None) -> str:
        # The id becomes a file name: anything else could address a path outside the folder.
        if not isinstance(session_id, str) or _ID_RE.fullmatch(session_id) is None:
            raise ValidationError(
                f"session id {str(session_id)[:80]!r} is not valid",
                remediation="Use 1-128 characters from a-z, 0-9, '_' and '-', starting with a "
                "letter or digit.",
                details={"parameter": "session_id"},
            )
        return os.path.join(self._dir_name if folder is None else folder, session_id + suffix)

    @contextmanager
    def _locked(self, session_id: str) -> Iterator[str]:
        """Hold the session's sidecar lock; yield the lock file's path."""
        lock_path = self._path(session_id, ".lock", self._locks)
        while True:
            fd, held = self._open_lock(session_id, lock_path)
            try:
                # Each call opens its own file description, so threads exclude each other too.
                with _os_errors(session_id, "lock"):
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    try:
                        now = os.stat(lock_path)
                    except FileNotFoundError:
                        continue
                # delete() unlinks the lock file while holding it; whoever waited on that
                # inode holds a lock nobody else will see, so it must start over.
                if (now.st_ino, now.st_dev) == (held.st_ino, held.st_dev):
                    yield lock_path
                    return
            finally:
                os.close(fd)

    @contextmanager
    def _settling(self, session_id: str) -> Iterator[None]:
        """Hold a session's lock for the index; leave no lock file for a missing record."""
        with self._locked(session_id) as lock_path:
            try:
                yield
            finally:
                if not os.path.lexists(self._path(session_id)):
                    Path(lock_path).unlink(missing_ok=True)

    def _open_lock(self, session_id: str, lock_path: str) -> tuple[int, os.stat_result]:
        """Open (creating) the sidecar lock file, never through a symlink; return it and its stat.

        ``.locks/`` holds only regular files this store creates. Anything else there (a
        symlink, maybe dangling, a FIFO) was planted: following it would create or lock a
        file outside the project, so it is removed (unlink never follows) and replaced.
        """
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        for _ in range(3):
            with _os_errors(session_id, "lock"):
                try:
                    fd = os.open(lock_path, flags, 0o600)
                except OSError as exc:
                    if exc.errno != errno.ELOOP:
                        raise
                    os.unlink(lock_path)  # a symlink: remove the link itself
                    continue
                held = os.fstat(fd)
                if stat.S_ISREG(held.st_mode):
                    return fd, held
                os.close(fd)
                os.unlink(lock_path)
        raise InternalError(
            f"could not lock session {session_id!r}: its lock file keeps being replaced",
            remediation="Check what writes into the session state folder's .locks/ and retry.",
        )

    def _write_temp(self, session: Session) -> tuple[str, Sig, bytes]:
        """Write the record to a new temp file; return its path, stat signature and bytes.

        Raises:
            LimitError: the record would be over ``MAX_RECORD_BYTES`` (nothing is written).
        """
        data = _record_bytes(session)
        if len(data) > MAX_RECORD_BYTES:
            raise LimitError(
                f"session {session.session_id!r} would grow to {len(data)} bytes, over the "
                f"{MAX_RECORD_BYTES} bytes a session record may hold; nothing was written",
                remediation="Send smaller evidence (summaries and file paths rather than file "
                "contents), or start a new session.",
            )
        name = f".{session.session_id}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        tmp = os.path.join(self._dir, name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self._durable:
                os.fsync(fd)
            # Rename and link keep the inode and its mtime: this signature stays valid.
            sig = signature(os.fstat(fd))
        except BaseException:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp, sig, data

    def _fsync_dir(self) -> None:
        if self._durable:
            fsync_dir(self._dir)

    def _remember(
        self, session_id: str, sig: Sig, data: bytes, session: Session | None = None
    ) -> None:
        """Keep a small record in memory, so reads of it need no file read."""
        if len(data) > CACHED_RECORD_BYTES or not _settled(sig):
            self._forget(session_id)
            return
        with self._cache_lock:
            previous = self._cache.pop(session_id, None)
            if previous is not None:
                self._cache_bytes -= len(previous.data)
            self._cache[session_id] = _Cached(sig, data, session)
            self._cache_bytes += len(data)
            while len(self._cache) > _CACHE_ENTRIES or self._cache_bytes > _CACHE_BYTES:
                _, evicted = self._cache.popitem(last=False)
                self._cache_bytes -= len(evicted.data)

    def _forget(self, session_id: str) -> None:
        with self._cache_lock:
            previous = self._cache.pop(session_id, None)
            if previous is not None:
                self._cache_bytes -= len(previous.data)


def _not_found(session_id: str) -> NotFoundError:
    return NotFoundError(
        f"session {session_id!r} does not exist",
        remediation="Call list_sessions to see the existing sessions and use one of those.",
    )


def _read_summary_of(path: str, session_id: str) -> SessionSummary:
    """Read a record's summary for the index (looked up at call time: tests count calls)."""
    return _read_summary(path, session_id)
