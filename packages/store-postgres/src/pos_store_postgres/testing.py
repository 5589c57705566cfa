"""A throwaway PostgreSQL server for tests and benchmarks (Debian's ``postgresql`` binaries).

:class:`TemporaryPostgres` runs ``initdb`` into a new folder and starts ``postgres``
on a free loopback port with password authentication, as a non-root user when the
caller is root (``initdb`` refuses root). Nothing here is used by the store itself.

``pg_ctl`` detaches the server, so a test run killed with SIGKILL cannot stop it. Each
server's folder records the pid of the process that started it (``owner.pid``), and
every :meth:`TemporaryPostgres.start` first stops and removes the servers whose owner
is gone (:func:`reap_orphans`).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg

__all__ = ["PostgresNotFound", "TemporaryPostgres", "find_postgres_bin", "reap_orphans"]

BIN_ENV = "POS_POSTGRES_BIN"
"""Set it to the folder holding initdb/pg_ctl/postgres to choose a PostgreSQL build."""

_RUN_AS = "postgres"
"""The account the server runs as when the caller is root (Debian's package creates it)."""

_PREFIX = "pos-pg-"
_OWNER_FILE = "owner.pid"


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries were found."""


def find_postgres_bin() -> Path:
    """Return the folder of ``initdb``, ``pg_ctl`` and ``postgres``.

    Looks at ``$POS_POSTGRES_BIN``, then ``/usr/lib/postgresql/<newest>/bin`` (where
    Debian puts them, off ``PATH``), then ``PATH``.

    Raises:
        PostgresNotFound: none of them has the binaries.
    """
    candidates = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    candidates += [Path(p) for p in reversed(versions)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in "
        f"${BIN_ENV}, /usr/lib/postgresql/*/bin or PATH; install Debian's postgresql package "
        "(apt-get install -y postgresql)"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    return True


def reap_orphans(bin_dir: Path | None = None) -> list[Path]:
    """Stop and remove the temporary servers whose starting process has died.

    Only folders this module made (``pos-pg-*`` in the temp folder, holding an
    ``owner.pid``) are touched; a folder without one (an older run's, or one being
    set up right now) is left alone. Returns the folders removed.
    """
    reaped = []
    for root in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((root / _OWNER_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        data = root / "data"
        if (data / "postmaster.pid").exists():
            pg_ctl = (bin_dir or find_postgres_bin()) / "pg_ctl"
            stop = [str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]
            if os.geteuid() == 0:
                stop = ["runuser", "-u", _RUN_AS, "--", *stop]
            subprocess.run(stop, check=False, capture_output=True)  # noqa: S603 - our own paths
        shutil.rmtree(root, ignore_errors=True)
        reaped.append(root)
    return reaped


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryPostgres:
    """A PostgreSQL server in a temporary folder, listening on 127.0.0.1 only.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with TemporaryPostgres() as pg:
            url = pg.create_database("app")

    Args:
        durable: Keep fsync on (benchmarks); off by default, as tests need speed, not durability.
        settings: Extra ``postgresql.conf`` settings (``{"shared_buffers": "512MB"}``).
    """

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        self.bin = find_postgres_bin()
        self.password = secrets.token_urlsafe(12)
        self.user = "postgres"
        self.port = 0
        self._durable = durable
        self._settings = settings or {}
        self._root: Path | None = None

    @property
    def admin_url(self) -> str:
        """A superuser URL of the ``postgres`` database."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server, with the superuser's password."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _command(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", _RUN_AS, "--", *args]
        return list(args)

    def start(self) -> None:
        """Create the cluster and start the server; return when it accepts connections.

        Servers left running by a killed earlier run are stopped first (:func:`reap_orphans`).
        """
        reap_orphans(self.bin)
        self._root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self._root / _OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
        data, run = self._root / "data", self._root / "run"
        run.mkdir()
        pwfile = self._root / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self._root, _RUN_AS)
            shutil.chown(run, _RUN_AS)
            shutil.chown(pwfile, _RUN_AS)
        initdb = [
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            self.user,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        if not self._durable:
            initdb.append("--no-sync")
        subprocess.run(self._command(*initdb), check=True, capture_output=True)  # noqa: S603
        pwfile.unlink()
        self.port = _free_port()
        options = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{run}'",
            "max_connections": "200",
            "fsync": "on" if self._durable else "off",
            "synchronous_commit": "on" if self._durable else "off",
            "full_page_writes": "on" if self._durable else "off",
            **self._settings,
        }
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in options.items())
        log = self._root / "server.log"
        start = [
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "start",
        ]
        result = subprocess.run(  # noqa: S603 - our own binaries and paths
            self._command(*start), check=False, capture_output=True, text=True
        )
        if result.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}{result.stdout}{tail}")
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # our own name: no user input
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self) -> None:
        """Restart the server (fast shutdown): every open connection is cut."""
        if self._root is None:
            raise RuntimeError("the server is not running")
        data = self._root / "data"
        log = self._root / "server.log"
        restart = [str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-m", "fast", "-w"]
        subprocess.run(self._command(*restart, "restart"), check=True, capture_output=True)  # noqa: S603
        self._wait_ready()

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self._root is None:
            return
        data = self._root / "data"
        if (data / "postmaster.pid").exists():
            stop = [str(self.bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            subprocess.run(self._command(*stop), check=False, capture_output=True)  # noqa: S603
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def __enter__(self) -> TemporaryPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
