"""A durable session store on a local POSIX filesystem: one JSON file per session.

Layout of the state folder::

    <session_id>.json                the record (mode 0600), replaced atomically by every write
    .locks/<session_id>.lock         sidecar that ``flock`` serialises read-modify-write on
                                     (in a subfolder so that listing scans only records)
    .<session_id>.<pid>.<hex>.tmp    a write in progress; the pid lets ``setup`` reap orphans

Crash safety comes from write-temp, fsync, rename, fsync-folder; concurrency safety
from an exclusive ``flock`` on the sidecar, held from the read to the rename.
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
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pydantic

from ._bounded import BoundedInputError, check_depth, read_bounded_bytes
from ._durable import fsync_dir
from ._models import SESSION_STATUSES, Session, SessionStatus, SessionSummary
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
# A folder mtime this much older than a scan cannot hide a later change: a later
# write gets a later mtime. Kernels stamp files from a clock that lags by at most one
# tick (<= 10 ms), so 50 ms is safe where timestamps have sub-millisecond digits;
# filesystems with whole-second (or coarser) timestamps get 2 s.
_SETTLED_NS = 50_000_000
_SETTLED_COARSE_NS = 2_000_000_000

_SUMMARY_KEYS = {name: name for name in SessionSummary.model_fields} | {
    "last_updated": "updated_at"
}

_Sig = tuple[int, int, int]


def _signature(st: os.stat_result) -> _Sig:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


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


class FileSessionStore(SessionStore):
    """Sessions as JSON files in one folder, safe across threads, processes and crashes.

    Requires a local POSIX filesystem (``fcntl.flock``, ``os.link``, atomic ``os.replace``).
    Opening a store runs :meth:`setup`.

    Args:
        state_dir: The folder holding the session files; created (mode 0700) if missing.
            An existing folder keeps the mode its owner gave it.
        durable: ``fsync`` every file and folder change. Turn off only for tests and
            throwaway runs: a power loss may then lose recent writes (never corrupt them).
    """

    kind: ClassVar[str] = "file"

    def __init__(self, state_dir: str | os.PathLike[str], *, durable: bool = True) -> None:
        self._dir = Path(state_dir).absolute()
        self._locks = self._dir / ".locks"
        self._durable = durable
        self._cache_lock = threading.Lock()
        self._cache: dict[str, tuple[_Sig, SessionSummary]] = {}
        self._corrupt: dict[str, _Sig] = {}
        # Ids in listing order; re-sorted only when the set of ids (or a created_at) changes,
        # since an update leaves a session's place in the listing as it was.
        self._order: list[str] | None = None
        self._dir_mtime_ns = -1
        self._scan_ns = 0
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
        """Create the folder if missing and remove temp files orphaned by dead writers."""
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
        with os.scandir(self._dir) as entries:
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

    def create(self, session: Session) -> Session:
        """Store a new session at version 1 and return it as stored.

        Raises:
            ConflictError: a session with this id exists.
            ValidationError: the session id is not a valid id.
        """
        final = self._path(session.session_id)
        stored = session.model_copy(update={"version": 1})
        with _os_errors(session.session_id, "create"):
            tmp, sig = self._write_temp(stored)
            try:
                os.link(tmp, final)  # unlike rename, link never overwrites: exclusive and atomic
            except FileExistsError:
                raise ConflictError(
                    f"session {session.session_id!r} already exists",
                    remediation="Choose another session id, or delete the existing session first.",
                ) from None
            finally:
                os.unlink(tmp)
            self._fsync_dir()
        self._remember(stored, sig)
        return stored

    def load(self, session_id: str) -> Session:
        """Return the stored session.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the file cannot be read, parsed or validated.
        """
        path = self._path(session_id)
        try:
            raw = _read_record(path)
        except FileNotFoundError:
            raise NotFoundError(
                f"session {session_id!r} does not exist",
                remediation="Call list_sessions to see the existing sessions and use one of those.",
            ) from None
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
        return session

    def update(self, session_id: str, updater: Updater) -> Session:
        """Apply ``updater`` under an exclusive lock and return the session as stored.

        ``updater`` gets a deep copy and must not call this store for the same session
        (the lock is not re-entrant). The store sets ``version``; ``updated_at`` is the
        caller's. If ``updater`` returns None or raises, nothing is written.

        Raises:
            NotFoundError: no such session.
            CorruptSessionError: the stored record cannot be read.
            ValidationError: ``updater`` changed the session id.
        """
        with self._locked(session_id) as lock_path:
            try:
                current = self.load(session_id)
            except NotFoundError:
                # Leave no lock file behind for an id that does not exist.
                Path(lock_path).unlink(missing_ok=True)
                raise
            result = updater(current.model_copy(deep=True))
            if result is None:
                return current
            if result.session_id != session_id:
                raise ValidationError(
                    f"an update of session {session_id!r} changed its id",
                    remediation="Leave session_id unchanged in the updater.",
                )
            stored = result.model_copy(update={"version": current.version + 1})
            with _os_errors(session_id, "update"):
                tmp, sig = self._write_temp(stored)
                try:
                    os.replace(tmp, self._path(session_id))
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                self._fsync_dir()
        self._remember(stored, sig)
        return stored

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
            with _os_errors(session_id, "import"):
                tmp, sig = self._write_temp(stored)
                try:
                    os.link(tmp, final)
                except FileExistsError:
                    return False
                finally:
                    os.unlink(tmp)
                self._fsync_dir()
        else:
            with self._locked(session_id), _os_errors(session_id, "import"):
                tmp, sig = self._write_temp(stored)
                try:
                    os.replace(tmp, final)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                self._fsync_dir()
        self._remember(stored, sig)
        return True

    def delete(self, session_id: str) -> bool:
        """Remove the session and its lock file; return whether it existed."""
        path = self._path(session_id)
        with self._locked(session_id) as lock_path, _os_errors(session_id, "delete"):
            try:
                os.unlink(path)
                existed = True
            except FileNotFoundError:
                existed = False
            # Unlinked while held: a waiter then sees it holds an orphan and starts over.
            Path(lock_path).unlink(missing_ok=True)
            self._fsync_dir()
        with self._cache_lock:
            self._cache.pop(session_id, None)
            self._corrupt.pop(session_id, None)
            self._order = None
        return existed

    def exists(self, session_id: str) -> bool:
        """Return whether a record (readable or not) is stored under this id."""
        return os.path.exists(self._path(session_id))

    def list_summaries(self, status: SessionStatus | None = None) -> list[SessionSummary]:
        """Return the readable sessions' summaries, newest ``created_at`` first.

        Ties are ordered by session id, descending. Only files changed since the last
        call are read, and a folder unchanged since a scan at least 50 ms (2 s on
        coarse-timestamp filesystems) after its last change is not scanned at all:
        stores always rename into the folder, so a file edited in place by hand is
        seen once anything else in the folder changes.
        The summaries are shared with the cache: treat them as read-only.
        """
        with self._cache_lock:
            self._refresh()
            if self._order is None:
                self._order = [
                    session_id
                    for _, session_id in sorted(
                        ((entry[1].created_at, sid) for sid, entry in self._cache.items()),
                        reverse=True,
                    )
                ]
            cache = self._cache
            listing = [cache[session_id][1] for session_id in self._order]
        return [s for s in listing if status is None or s.status == status]

    def corrupt_ids(self) -> list[str]:
        """Return the ids of the files the last listing could not read."""
        with self._cache_lock:
            return sorted(self._corrupt)

    def count_by_status(self) -> dict[str, int]:
        """Return how many readable sessions are in each status."""
        with self._cache_lock:
            self._refresh()
            counts = Counter(summary.status for _, summary in self._cache.values())
        return {status: counts[status] for status in SESSION_STATUSES}

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
        return os.path.join(folder or self._dir, session_id + suffix)

    @contextmanager
    def _locked(self, session_id: str) -> Iterator[str]:
        """Hold the session's sidecar lock; yield the lock file's path."""
        lock_path = self._path(session_id, ".lock", self._locks)
        while True:
            fd = self._open_lock(session_id, lock_path)
            try:
                # Each call opens its own file description, so threads exclude each other too.
                with _os_errors(session_id, "lock"):
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    held = os.fstat(fd)
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

    def _open_lock(self, session_id: str, lock_path: str) -> int:
        """Open (creating) the sidecar lock file, never through a symlink.

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
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    return fd
                os.close(fd)
                os.unlink(lock_path)
        raise InternalError(
            f"could not lock session {session_id!r}: its lock file keeps being replaced",
            remediation="Check what writes into the session state folder's .locks/ and retry.",
        )

    def _write_temp(self, session: Session) -> tuple[str, _Sig]:
        """Write the record to a new temp file; return its path and stat signature.

        Raises:
            LimitError: the record would be over ``MAX_RECORD_BYTES`` (nothing is written).
        """
        data = json.dumps(session.model_dump(mode="json"), separators=(",", ":")).encode()
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
            sig = _signature(os.fstat(fd))
        except BaseException:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp, sig

    def _fsync_dir(self) -> None:
        if self._durable:
            fsync_dir(self._dir)

    def _remember(self, session: Session, sig: _Sig) -> None:
        """Cache what this instance just wrote, so listing need not read it back."""
        with self._cache_lock:
            self._keep(session.session_id, sig, session.summary())
            self._corrupt.pop(session.session_id, None)

    def _keep(self, session_id: str, sig: _Sig, summary: SessionSummary) -> None:
        """Cache a summary; a new id or a changed created_at reorders the listing."""
        previous = self._cache.get(session_id)
        if previous is None or previous[1].created_at != summary.created_at:
            self._order = None
        self._cache[session_id] = (sig, summary)

    def _refresh(self) -> None:
        """Bring the cache up to date with the folder. Caller holds ``_cache_lock``."""
        scan_ns = time.time_ns()
        dir_mtime_ns = os.stat(self._dir).st_mtime_ns
        settle = _SETTLED_COARSE_NS if dir_mtime_ns % 1_000_000 == 0 else _SETTLED_NS
        if dir_mtime_ns == self._dir_mtime_ns and dir_mtime_ns <= self._scan_ns - settle:
            return  # every write renames into the folder, so nothing changed since that scan
        seen: set[str] = set()
        cache = self._cache
        with os.scandir(self._dir) as entries:
            for entry in entries:
                # This loop runs once per session file (10,000 of them on a big project):
                # the cheap checks come first, and an unchanged file costs one stat.
                name = entry.name
                if not name.endswith(".json"):
                    continue
                session_id = name[:-5]
                try:
                    # Never follow: a record that is a link is refused when read, not stat'ed.
                    sig = _signature(entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue  # deleted during the scan
                cached = cache.get(session_id)
                if cached is not None and cached[0] == sig:
                    seen.add(session_id)
                    continue
                if not _ID_RE.fullmatch(session_id):
                    continue
                seen.add(session_id)
                if self._corrupt.get(session_id) == sig:
                    continue
                try:
                    summary = _read_summary(entry.path, session_id)
                except FileNotFoundError:
                    seen.discard(session_id)  # deleted during the scan
                except (OSError, ValueError, KeyError, TypeError, RecursionError):
                    self._corrupt[session_id] = sig
                    if self._cache.pop(session_id, None) is not None:
                        self._order = None
                else:
                    self._keep(session_id, sig, summary)
                    self._corrupt.pop(session_id, None)
        for gone in (self._cache.keys() | self._corrupt.keys()) - seen:
            self._cache.pop(gone, None)
            self._corrupt.pop(gone, None)
            self._order = None
        self._dir_mtime_ns, self._scan_ns = dir_mtime_ns, scan_ns
