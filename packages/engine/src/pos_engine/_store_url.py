"""Open a session store from a URL: the file store built in, other backends by entry point.

``file:`` URLs and bare paths name a project folder (its sessions live in
``.praxis-os/state/workflows``). Any other scheme is looked up in the
``pos_engine.stores`` entry-point group, where a backend package registers the class
that opens it (``pos-store-postgres`` registers ``postgresql`` and ``postgres``), so
the engine never imports a database driver.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ._file_store import FileSessionStore
from ._store import SessionStore
from .exceptions import StoreConfigError

__all__ = ["KNOWN_BACKENDS", "STORE_ENTRY_POINT_GROUP", "open_store", "redact_url"]

STORE_ENTRY_POINT_GROUP = "pos_engine.stores"
"""The entry-point group where backend packages register a class per URL scheme."""

KNOWN_BACKENDS = {"postgresql": "pos-store-postgres", "postgres": "pos-store-postgres"}
"""Which package provides the backends we know of, to name it when it is missing."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_CONNINFO = re.compile(r"^\s*[A-Za-z_]+\s*=")
_SECRET_PARAMS = {"password", "passwd", "pass", "sslpassword", "secret", "token"}


class _Backend(Protocol):
    @classmethod
    def from_url(cls, url: str) -> SessionStore: ...


def redact_url(url: str) -> str:
    """Return ``url`` with its password (in the authority or the query) replaced by ``***``.

    Anything that is not a URL is returned unchanged; a URL that cannot be parsed is
    replaced by a placeholder, so no secret can reach a log or an error message.
    """
    if not _SCHEME.match(url):
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs],
                safe="*/:",
                quote_via=quote,
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"{url.split(':', 1)[0]}://<unparseable URL>"


def _file_path(url: str) -> Path:
    """The project folder a ``file:`` URL names (``file:///abs``, ``file://rel``, ``file:rel``)."""
    rest = url[len("file:") :]
    rest = rest.removeprefix("//")
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    if not rest:
        raise StoreConfigError(
            f"store URL {url!r} names no folder",
            remediation="Name the project folder: file:///path/to/project (or just the path).",
        )
    return Path(rest)


def _file_store(url: str, project: Path, *, durable: bool, existing: bool) -> FileSessionStore:
    if existing and not FileSessionStore.project_state_dir(project).is_dir():
        raise StoreConfigError(
            f"store URL {url!r} names a folder that holds no sessions "
            "(no .praxis-os/state/workflows inside it)",
            remediation="Name the project folder whose sessions you mean.",
        )
    return FileSessionStore.from_project(project, durable=durable)


def _backend(scheme: str, url: str) -> _Backend:
    found: list[EntryPoint] = list(entry_points(group=STORE_ENTRY_POINT_GROUP, name=scheme))
    if not found:
        package = KNOWN_BACKENDS.get(scheme)
        if package is not None:
            raise StoreConfigError(
                f"store URL {redact_url(url)!r} needs the {package} package, which is not installed",
                remediation=f"Install it next to pos-engine (pip install '{package}[binary]'), "
                "then start again.",
            )
        known = sorted(
            {"file", *KNOWN_BACKENDS, *entry_points(group=STORE_ENTRY_POINT_GROUP).names}
        )
        raise StoreConfigError(
            f"store URL {redact_url(url)!r} has scheme {scheme!r}, which no installed "
            f"backend serves; known schemes: {', '.join(known)}",
        )
    return cast(_Backend, found[0].load())


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    project_root: str | os.PathLike[str] | None = None,
    durable: bool = True,
    existing: bool = False,
) -> SessionStore:
    """Open the session store a URL names.

    - None or ``""``: the file store of ``project_root`` (the default of DESIGN.md);
    - ``file:///path/to/project`` or a bare path: the file store of that project;
    - ``postgresql://user:password@host:5432/db`` (or ``postgres://``): the PostgreSQL
      store, when ``pos-store-postgres`` is installed; any other scheme a backend
      package registers in the ``pos_engine.stores`` entry-point group.

    The file store is set up on opening. Other backends are only connected: call
    :meth:`SessionStore.check_ready` before serving, or :meth:`SessionStore.migrate`
    to create their schema.

    Args:
        url: Where the sessions live.
        project_root: The project whose file store is used when ``url`` is empty.
        durable: ``fsync`` every file store write (other backends ignore it).
        existing: Refuse a file store whose folder does not exist yet, instead of
            creating it (for a store that is read from, such as a copy's source).

    Raises:
        StoreConfigError: the URL is malformed, or its backend is not installed.
        StoreUnavailableError: the backend cannot be reached.
    """
    text = os.fspath(url) if url is not None else ""
    if not text.strip():
        if project_root is None:
            raise StoreConfigError(
                "no store URL and no project folder were given",
                remediation="Pass a store URL, or the project folder whose file store to use.",
            )
        return FileSessionStore.from_project(project_root, durable=durable)
    if text.startswith("file:"):
        return _file_store(text, _file_path(text), durable=durable, existing=existing)
    match = _SCHEME.match(text)
    if match is None:
        if _CONNINFO.match(text):
            raise StoreConfigError(
                "the store setting looks like a libpq key=value string, not a URL",
                remediation="Write it as a URL: postgresql://user:password@host:5432/dbname.",
            )
        return _file_store(text, Path(text), durable=durable, existing=existing)
    scheme = match[1].lower()
    store = _backend(scheme, text).from_url(text)
    if not isinstance(store, SessionStore):
        raise StoreConfigError(
            f"the {scheme!r} store backend returned {type(store).__name__}, not a SessionStore",
            remediation="Reinstall the backend package, or report it to its authors.",
        )
    return store
