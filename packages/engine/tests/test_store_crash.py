"""A writer killed at any moment leaves the record of some version it wrote, never a broken one.

A child process updates one session in a loop; each write changes a counter and a
payload whose size (0-200 KB) and content follow from the counter, so the state of
every version can be rebuilt from its number. After each update returns, the child
reports the version it committed through a pipe. The parent kills the child with
SIGKILL after a short random delay and checks what is on disk: a whole record, of a
version no older than the last one the child was told was committed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import struct
import time
from pathlib import Path

import pytest
from pos_engine import _file_index
from pos_engine._file_store import FileSessionStore
from pos_engine._models import Session
from pos_engine.testing import make_session

pytestmark = pytest.mark.slow

ITERATIONS = 400
SESSION_ID = "crashy"
SEED = 20_240_501


def _payload(counter: int) -> str:
    size = (counter * 104_729) % 200_001
    return (f"<{counter:07d}>" * (size // 9 + 1))[:size]


def _stamp(counter: int) -> str:
    return f"2025-01-01T00:00:00.{counter:06d}+00:00"


def _state(base: Session, version: int) -> Session:
    counter = version - 1
    return base.model_copy(
        update={
            "version": version,
            "options": {"counter": counter, "payload": _payload(counter)},
            "updated_at": _stamp(counter),
        }
    )


def _step(session: Session) -> Session:
    counter = session.options["counter"] + 1
    session.options = {"counter": counter, "payload": _payload(counter)}
    session.updated_at = _stamp(counter)  # so the listing's summary tells versions apart
    return session


def _write_forever(state_dir: str, acks: int) -> None:
    store = FileSessionStore(state_dir)
    while True:
        stored = store.update(SESSION_ID, _step)
        os.write(acks, struct.pack("<I", stored.version))  # acknowledged: must never be lost


def _last_ack(reader: int) -> int:
    """Drain the pipe; return the last version acknowledged (0 if none)."""
    data = b""
    while chunk := os.read(reader, 65536):
        data += chunk
    whole = len(data) - len(data) % 4
    return struct.unpack_from("<I", data, whole - 4)[0] if whole else 0


def _temp_files(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_a_killed_writer_leaves_a_whole_record_of_some_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Writers compact the shared change log every few dozen writes, so kills land in
    # compactions too; the forked children inherit the small bound.
    monkeypatch.setattr(_file_index, "COMPACT_MIN_BYTES", 0)
    context = multiprocessing.get_context("fork")  # fast to start, no re-import
    rng = random.Random(SEED)
    store = FileSessionStore(tmp_path / "state")
    base = store.create(_state(make_session(SESSION_ID), 1))
    data_file = store.state_dir / f"{SESSION_ID}.json"
    last_version, advanced, interrupted, acknowledged, compacted = 1, 0, 0, 0, 0
    log = store.state_dir / ".index" / "log"
    log_inode = log.stat().st_ino
    started = time.perf_counter()

    for _ in range(ITERATIONS):
        reader, writer = os.pipe()
        child = context.Process(target=_write_forever, args=(str(store.state_dir), writer))
        child.start()
        os.close(writer)
        time.sleep(rng.uniform(0.0, 0.02))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join()  # reaped: its pid is dead for setup()
        assert child.exitcode == -signal.SIGKILL
        acked = _last_ack(reader)
        os.close(reader)

        on_disk = Session.model_validate(json.loads(data_file.read_bytes()))
        assert on_disk == _state(base, on_disk.version)
        assert on_disk.version >= last_version
        assert on_disk.version >= acked, f"acknowledged version {acked} lost"
        acknowledged += acked > 0
        advanced += on_disk.version > last_version
        last_version = on_disk.version

        interrupted += bool(_temp_files(store.state_dir))
        compacted += log.stat().st_ino != log_inode
        log_inode = log.stat().st_ino
        fresh = FileSessionStore(store.state_dir)  # opening reaps the dead writer's temp file
        assert _temp_files(store.state_dir) == []
        assert store.load(SESSION_ID) == on_disk
        # The listing agrees with the record, in a long-lived instance and a new one.
        assert store.list_page().summaries == [on_disk.summary()]
        assert fresh.list_page().summaries == [on_disk.summary()]
        fresh.close()

    elapsed = time.perf_counter() - started
    print(
        f"\n{ITERATIONS} kills in {elapsed:.1f}s: {advanced} after progress, "
        f"{interrupted} mid-write, {acknowledged} with acknowledged writes, {compacted} with "
        "the log compacted, "
        f"final version {last_version}"
    )
    # Both outcomes must have happened, or the test did not test what it claims.
    assert advanced > 0
    assert interrupted > 0
    assert acknowledged > 0
    assert compacted > 0
