"""The file store's shared index: one change log that every process appends to and reads.

``.index/log`` in the state folder holds, in this order:

- a preamble line: format, the log's id, the boot it was written in, the size of the
  header, and what it continues (the previous log's id and offset, and how many of that
  log's bytes were carried over);
- the header line: every session's stat signature and summary, and the corrupt ids,
  as of the moment the log was written (a snapshot);
- entries, one per store write, each ``RS <json> LF`` (an RFC 7464 text sequence, so a
  torn append never hides the entries after it).

A writer appends its entry *before* the record is renamed into place, while it holds
the session's lock: a crash can leave an entry whose record never changed, never a
changed record without an entry. A reader therefore keeps each new entry *pending*
until the record's stat signature confirms it, re-checks pending entries (one stat
each) at every listing, and reads a record only when its signature matches neither
the entry nor what the index knew (a change made outside a store).

Every reader keeps the log open and reads only what was appended since its last look,
so a listing right after a write costs one small read and one stat. Compaction writes
a new log (the current listing as its header, then the entries appended meanwhile)
and renames it into place under an exclusive lock; readers that had read the old log
to its end continue in the new one without reading its header.

Index files are not fsynced: within one boot the page cache is coherent across
processes, and a log written in another boot (a power loss may have dropped its tail)
makes the next reader check every record once (:meth:`FileIndex.verify`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ._file_listing import Listing, Sig, Values, values_of, values_ok
from ._models import SessionSummary
from ._nonblocking import acquire, require_io

__all__ = ["INDEX_DIR", "FileIndex", "RecordReader"]

logger = logging.getLogger(__name__)

INDEX_DIR = ".index"
"""The index's folder inside the state folder: a cache, rebuilt from the records when missing."""

FORMAT = 1
RS, LF = b"\x1e", b"\n"
INLINE_TAIL_BYTES = 64 * 1024
"""Largest unread log tail a memory-only listing reads itself (a few hundred entries)."""
COMPACT_MIN_BYTES = 1024 * 1024
"""The log is compacted once its entries pass this size and the size of its header."""
VERIFY_SECONDS = 300.0
"""How often a reader checks every record's signature, to see changes made outside a store."""
_PREAMBLE_MAX = 4096

RecordReader = Callable[[str, str], SessionSummary]
"""Reads the summary of a record (path, session_id); raises OSError/ValueError/KeyError/TypeError."""


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:  # not Linux: treat every process start as a new boot
        return f"pid-{os.getpid()}-{time.time_ns()}"


_BOOT_ID = _boot_id()


def signature(st: os.stat_result) -> Sig:
    """The stat signature of a record: (mtime_ns, size, inode)."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class _Unusable(Exception):
    """The log cannot be read as a log (torn by a power loss, written by hand)."""


class FileIndex:  # pylint: disable=too-many-instance-attributes
    """The listing of a file store's sessions, kept current from the shared change log.

    Args:
        folder: The state folder (records live in it, the index in ``.index/``).
        valid_id: Whether a name is a session id (anything else never becomes a path).
        read_summary: Reads a record's summary, for records the log does not describe.
        session_lock: Holds a session's lock (compaction settles pending entries under it).
            It must not leave a lock file behind for a session that does not exist.
        verify_seconds: Check every record's signature this often (None: never on a timer).
        clock: Monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        folder: Path,
        *,
        valid_id: Callable[[str], bool],
        read_summary: RecordReader,
        session_lock: Callable[[str], AbstractContextManager[Any]],
        verify_seconds: float | None = VERIFY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder
        self._dir = folder / INDEX_DIR
        self._log_path = str(self._dir / "log")
        self._lock_path = str(self._dir / "lock")
        self._compact_path = str(self._dir / "compact")
        self._valid_id = valid_id
        self._read_summary = read_summary
        self._session_lock = session_lock
        self.verify_seconds = verify_seconds
        self._clock = clock
        self.lock = threading.Lock()
        # Reader state (under self.lock): the open log, how far it was read, what is pending.
        self._fd: int | None = None
        self._ident: tuple[int, int] = (0, 0)
        self._id = ""
        self._offset = 0
        self._pending: dict[str, dict[str, Any]] = {}
        self._listing = Listing()
        # None: this process has not checked the records yet; its first listing does, so
        # changes made while no store was open (a restored backup) are seen.
        self._verified_at: float | None = None

    # ------------------------------------------------------------------ setup and writes

    def setup(self) -> None:
        """Create ``.index/`` and its lock files; build the log from the records if there is none."""
        self._dir.mkdir(mode=0o700, exist_ok=True)
        for path in (self._lock_path, self._compact_path):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600))
        if not os.path.exists(self._log_path):
            self._build(only_if_missing=True)

    @contextmanager
    def _flock(self, path: str, operation: int) -> Iterator[bool]:
        """Hold a flock on ``path`` (its own file description); yield whether it was taken."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, operation)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing the description releases its lock

    def append(self, entry: dict[str, Any]) -> int:
        """Append one entry (``{"o": "p"|"d"|"a", "i": id, ...}``) to the shared log.

        Returns:
            The log's size afterwards: pass it to :meth:`compact_if_large` once the
            write is over and the session's lock released.
        """
        line = RS + json.dumps(entry, separators=(",", ":")).encode() + LF
        for _ in range(5):
            try:
                fd = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            except FileNotFoundError:
                self._build(only_if_missing=True)  # deleted by hand: rebuild from the records
                continue
            try:
                with self._flock(self._lock_path, fcntl.LOCK_SH):
                    held, now = os.fstat(fd), os.stat(self._log_path)
                    if (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino):
                        continue  # compacted between open and lock: append to the new log
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view) :]
                    # At least this: appends of other writers only make it larger, and
                    # the size only decides when to look at compacting.
                    return now.st_size + len(line)
            finally:
                os.close(fd)
        raise OSError(errno.EAGAIN, "the session index log kept being replaced")

    def compact_if_large(self, size: int) -> None:
        """Compact the log when its entries outgrow both its header and a minimum size."""
        if size <= COMPACT_MIN_BYTES:
            return
        try:
            with open(self._log_path, "rb") as f:
                preamble = json.loads(f.readline(_PREAMBLE_MAX))
            header_bytes = int(preamble["header_bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # whoever reads it next rebuilds it
        if size > 2 * header_bytes + COMPACT_MIN_BYTES:
            self.compact()

    # ------------------------------------------------------------------ reading

    @contextmanager
    def reading(self) -> Iterator[Listing]:
        """Yield the listing, brought up to date; hold it only for the ``with`` body.

        Inside :func:`~pos_engine._nonblocking.nonblocking` it raises ``WouldBlock`` when
        bringing it up to date takes more than reading a short log tail and a stat per
        pending entry, or when another thread is doing so.
        """
        acquire(self.lock)
        try:
            rebase = self._sync()
            yield self._listing
        finally:
            self.lock.release()
        if rebase:
            self.compact()

    def _sync(self) -> bool:
        """Bring the listing up to date; caller holds :attr:`lock`. Returns whether to compact."""
        rebase = False
        if self._fd is None:
            rebase = self._load()
        try:
            st = os.stat(self._log_path)
        except FileNotFoundError:
            require_io()
            self._build(only_if_missing=True)
            rebase = self._load()
            st = os.stat(self._log_path)
        if (st.st_dev, st.st_ino) != self._ident:
            rebase = self._switch() or rebase
        elif st.st_size > self._offset:
            self._read_tail(st.st_size)
        if self._pending:
            for session_id in list(self._pending):
                self._resolve(session_id, settle=False)
        if self._verified_at is None or (
            self.verify_seconds is not None
            and self._clock() - self._verified_at >= self.verify_seconds
        ):
            require_io()
            self._verified_at = self._clock()
            self._verify(self._listing, self._pending)
        return rebase

    def _open(self) -> tuple[int, dict[str, Any], int]:
        """Open the log; return its fd, its preamble and where its header ends."""
        fd = os.open(self._log_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            head = os.pread(fd, _PREAMBLE_MAX, 0)
            end = head.find(LF)
            if end < 0:
                raise _Unusable("no preamble")
            preamble = json.loads(head[:end])
            if not isinstance(preamble, dict) or preamble.get("format") != FORMAT:
                raise _Unusable("unknown format")
            header_end = end + 1 + int(preamble["header_bytes"])
        except (ValueError, KeyError, TypeError, _Unusable):
            os.close(fd)
            raise _Unusable("the preamble is not readable") from None
        except BaseException:
            os.close(fd)
            raise
        return fd, preamble, header_end

    def _load(self) -> bool:
        """Read the whole log (header and entries) into a fresh listing.

        Returns:
            Whether the log was written in another boot and needs re-basing (compaction).
        """
        require_io()
        for _ in range(3):
            try:
                fd, preamble, header_end = self._open()
            except FileNotFoundError:
                self._build(only_if_missing=True)
                continue
            except _Unusable:
                logger.warning(
                    "the session index log is unreadable: rebuilding it from the records"
                )
                self._build(only_if_missing=False)
                continue
            try:
                start = header_end - int(preamble["header_bytes"])
                header = json.loads(os.pread(fd, header_end - start, start))
                listing = Listing.from_json(header)
            except (ValueError, KeyError, TypeError, IndexError):
                os.close(fd)
                logger.warning("the session index header is unreadable: rebuilding it")
                self._build(only_if_missing=False)
                continue
            self._fd_close()
            st = os.fstat(fd)
            self._fd, self._ident, self._offset = fd, (st.st_dev, st.st_ino), header_end
            self._id, self._listing, self._pending = str(preamble["id"]), listing, {}
            for entry in header.get("pending", ()):
                self._note(entry)
            self._read_tail(st.st_size)
            if preamble.get("boot") == _BOOT_ID:
                return False
            # Written before a reboot: a power loss may have dropped entries of records
            # that did reach the disk. Check every record once, then re-base the log.
            self._verify(self._listing, self._pending)
            return True
        raise OSError(errno.EAGAIN, "the session index log could not be loaded")

    def _read_tail(self, size: int) -> None:
        """Apply the entries between the read offset and ``size``."""
        assert self._fd is not None  # noqa: S101 - set by _load
        if size - self._offset > INLINE_TAIL_BYTES:
            require_io()
        data = os.pread(self._fd, size - self._offset, self._offset)
        end = data.rfind(LF) + 1  # a line still being appended is read next time
        for chunk in data[:end].split(RS):
            if not chunk.strip():
                continue
            try:
                entry = json.loads(chunk)
            except ValueError:
                logger.warning("skipped a torn entry of the session index log")
                continue
            self._note(entry)
        self._offset += end

    def _note(self, entry: Any) -> None:
        """Make ``entry`` pending (the last entry of a session wins)."""
        if not isinstance(entry, dict) or not isinstance(entry.get("i"), str):
            return
        if not self._valid_id(entry["i"]):
            return  # never a path: the log is a file anyone with access could edit
        if entry.get("o") == "a":  # an attempt that failed: forget its intent
            intent = self._pending.get(entry["i"])
            if intent is not None and intent.get("g") == entry.get("g"):
                del self._pending[entry["i"]]
            return
        self._pending[entry["i"]] = entry

    def _switch(self) -> bool:
        """The log was replaced (compacted): finish the old one, continue in the new one."""
        assert self._fd is not None  # noqa: S101 - set by _load
        self._read_tail(os.fstat(self._fd).st_size)  # nobody appends to a replaced log
        try:
            fd, preamble, header_end = self._open()
        except (FileNotFoundError, _Unusable):
            require_io()
            self._fd_close()
            return self._load()
        carried = preamble.get("carried", 0)
        if preamble.get("prev") == [self._id, self._offset - carried]:
            # The new header is the old log up to prev's offset, which this reader has read:
            # skip the header and the carried entries it already applied.
            st = os.fstat(fd)
            self._fd_close()
            self._fd, self._ident, self._id = fd, (st.st_dev, st.st_ino), str(preamble["id"])
            self._offset = header_end + carried
            self._read_tail(st.st_size)
            return False
        os.close(fd)
        require_io()
        self._fd_close()
        return self._load()

    def _fd_close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ------------------------------------------------------------------ pending entries

    def _path(self, session_id: str) -> str:
        return os.path.join(self._folder, session_id + ".json")

    def _stat(self, session_id: str) -> Sig | None:
        try:
            return signature(os.stat(self._path(session_id), follow_symlinks=False))
        except FileNotFoundError:
            return None

    def _resolve(self, session_id: str, *, settle: bool) -> None:
        """Apply a pending entry its record confirms; read the record if it shows neither state.

        With ``settle`` (the caller holds the session's lock, so no write is in flight)
        an entry the record does not confirm is dropped: its write failed.
        """
        entry = self._pending[session_id]
        listing = self._listing
        sig = self._stat(session_id)
        known = listing.rows.get(session_id)
        known_sig = known[0] if known is not None else listing.corrupt.get(session_id)
        if entry.get("o") == "p" and sig is not None and entry.get("g") == list(sig):
            values = tuple(entry.get("v", ()))
            if not values_ok(values):
                self._read_into(listing, session_id, sig)  # may raise WouldBlock: keep it pending
            else:
                listing.put(session_id, sig, values)
            del self._pending[session_id]
            return
        if entry.get("o") == "d" and sig is None:
            del self._pending[session_id]
            listing.drop(session_id)
            return
        if sig == known_sig and not settle:
            return  # the write is in flight (or its writer died): look again next time
        if sig is not None and sig != known_sig:
            self._read_into(listing, session_id, sig)
        elif sig is None:
            listing.drop(session_id)
        del self._pending[session_id]

    def _read_into(self, listing: Listing, session_id: str, sig: Sig) -> None:
        """Index what the record holds now (it changed in a way no entry describes)."""
        require_io()
        try:
            summary = self._read_summary(self._path(session_id), session_id)
        except FileNotFoundError:
            listing.drop(session_id)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            listing.set_corrupt(session_id, sig)
        else:
            listing.put(session_id, sig, values_of(summary))

    # ------------------------------------------------------------------ verification

    def verify(self) -> None:
        """Check every record's signature against the listing; read those that differ.

        Sees what no log entry describes: records added, replaced, edited or removed
        by hand or by an older version, and records that became unreadable.
        """
        with self.lock:
            rebase = self._sync()
            self._verified_at = self._clock()
            self._verify(self._listing, self._pending)
        if rebase:
            self.compact()

    def _verify(self, listing: Listing, pending: dict[str, dict[str, Any]]) -> None:
        seen: set[str] = set()
        with os.scandir(self._folder) as entries:
            for entry in entries:
                name = entry.name
                session_id = name[:-5]
                if not name.endswith(".json") or not self._valid_id(session_id):
                    continue
                try:
                    sig = signature(entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue  # deleted meanwhile
                seen.add(session_id)
                known = listing.rows.get(session_id)
                if (known is not None and known[0] == sig) or listing.corrupt.get(
                    session_id
                ) == sig:
                    continue
                if session_id not in pending:  # else a write in flight: its entry settles it
                    self._read_into(listing, session_id, sig)
        for gone in (listing.rows.keys() | listing.corrupt.keys()) - seen - pending.keys():
            listing.drop(gone)

    # ------------------------------------------------------------------ building and compaction

    def _build(self, *, only_if_missing: bool) -> None:
        """Write a new log whose header comes from reading every record."""
        require_io()
        with self._flock(self._lock_path, fcntl.LOCK_EX):
            if only_if_missing and os.path.exists(self._log_path):
                return  # another process built it meanwhile
            listing = Listing()
            self._verify(listing, {})
            self._write_log(listing, {}, prev=None, carried=b"")

    def _write_log(
        self,
        listing: Listing,
        pending: dict[str, dict[str, Any]],
        *,
        prev: list[Any] | None,
        carried: bytes,
    ) -> None:
        """Write a new log and rename it into place; caller holds the exclusive lock."""
        header = {**listing.to_json(), "pending": list(pending.values())}
        body = json.dumps(header, separators=(",", ":")).encode() + LF
        preamble = {
            "format": FORMAT,
            "id": secrets.token_hex(8),
            "boot": _BOOT_ID,
            "header_bytes": len(body),
            "prev": prev,
            "carried": len(carried),
        }
        head = json.dumps(preamble, separators=(",", ":")).encode() + LF
        tmp = os.path.join(self._dir, f".log.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            for part in (head, body, carried):
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        try:
            os.replace(tmp, self._log_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def compact(self) -> bool:
        """Rewrite the log as a header holding the current listing; return whether it ran.

        Only one process compacts at a time; another one asking meanwhile returns False.
        Pending entries are settled first under their session's lock, so the entry of a
        write that failed never outlives a compaction.
        """
        with self._flock(self._compact_path, fcntl.LOCK_EX | fcntl.LOCK_NB) as taken:
            if not taken:
                return False
            with self.lock:
                self._sync()
                stuck = list(self._pending)
            for session_id in stuck:
                with self._session_lock(session_id), self.lock:
                    if session_id in self._pending:
                        self._resolve(session_id, settle=True)
            with self.lock:
                self._sync()
                covered = self._offset
                with self._flock(self._lock_path, fcntl.LOCK_EX):
                    assert self._fd is not None  # noqa: S101 - _sync() opened it
                    end = os.fstat(self._fd).st_size
                    carried = os.pread(self._fd, end - covered, covered) if end > covered else b""
                    self._write_log(
                        self._listing, self._pending, prev=[self._id, covered], carried=carried
                    )
                self._switch()
        return True

    def close(self) -> None:
        """Close the log."""
        with self.lock:
            self._fd_close()


def put_entry(session_id: str, sig: Sig, values: Values) -> dict[str, Any]:
    """The log entry of a record about to be renamed into place."""
    return {"o": "p", "i": session_id, "g": list(sig), "v": list(values)}


def delete_entry(session_id: str) -> dict[str, Any]:
    """The log entry of a record about to be removed."""
    return {"o": "d", "i": session_id}


def abort_entry(session_id: str, sig: Sig) -> dict[str, Any]:
    """The log entry of a write that failed after its put entry was appended."""
    return {"o": "a", "i": session_id, "g": list(sig)}
