"""The session store a cutover works on, reached only through pos_engine's store API.

A project's sessions live where its servers keep them: the project's file store by
default, or the store ``--store URL`` (else ``$POS_WORKFLOW_STORE``) names, such as
``postgresql://user:password@host/db``, chosen exactly as ``pos-workflow serve``
chooses it. :class:`StoreSetting` carries that choice through a cutover: the
cutover opens the store with :func:`pos_engine.open_store` for its own reads and
writes (backup, migration, verification, rollback), and every server it starts on
the project gets the same setting through its environment, never on a command line
(a URL may hold a password). Messages name a store by its ``describe()`` text or its
URL with the password replaced, never by a secret.

A backup records which store it was taken on (:meth:`StoreSetting.identity`);
``apply``, ``verify``, ``rollback`` and a ``run`` that resumes an interrupted
cutover refuse to work on another store, so that a rollback cannot miss the
sessions a cutover created elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pos_engine import PosError, SessionStore, StoreConfigError, open_store, redact_url
from pos_tool import STORE_ENV

from .exceptions import StoreError

__all__ = ["STORE_ENV", "StoreSetting"]

DEFAULT_STORE = "the project's file store"
"""How messages name the default store before it is opened."""

_Opened = TypeVar("_Opened", SessionStore, SessionStore | None)


@dataclass(frozen=True)
class StoreSetting:
    """Where the project's sessions live for this cutover.

    Attributes:
        url: A store URL (``file:///path``, a bare path, ``postgresql://...``);
            None for the project's own file store.
    """

    url: str | None = None

    @classmethod
    def resolve(cls, url: str | None = None) -> StoreSetting:
        """``--store``'s value, else ``$POS_WORKFLOW_STORE``, else the project's file store."""
        return cls(url or os.environ.get(STORE_ENV) or None)

    @property
    def identity(self) -> str | None:
        """What a backup records of the setting: the URL without its password (None: default)."""
        return redact_url(self.url) if self.url else None

    def shown(self) -> str:
        """The setting for a message (no password)."""
        return self.identity or DEFAULT_STORE

    def server_env(self) -> dict[str, str]:
        """The environment that points a started ``pos-workflow serve`` at this store."""
        return {STORE_ENV: self.url} if self.url else {}

    def _ready(self, open_it: Callable[[], _Opened]) -> _Opened:
        """Open the store with ``open_it`` and check it can serve; say what is wrong if not."""
        try:
            store = open_it()
            if store is not None:
                try:
                    store.check_ready()
                except PosError:
                    store.close()
                    raise
        except PosError as exc:
            raise StoreError(
                f"the session store {self.shown()!r} cannot be used: {exc.message}",
                remediation=exc.remediation,
            ) from None
        return store

    def _existing(self, project: Path) -> SessionStore | None:
        if self.url is not None:
            return open_store(self.url, existing=True)
        try:  # reading must not create the default store's folder in the project
            return open_store(os.fspath(project), existing=True)
        except StoreConfigError:
            return None

    def _created(self, project: Path) -> SessionStore:
        if self.url is not None:
            return open_store(self.url, existing=True)
        return open_store(None, project_root=project)

    @contextmanager
    def existing(self, project: Path) -> Iterator[SessionStore | None]:
        """Open the store to read it; None when the project's file store does not exist yet.

        Raises:
            StoreError: the store cannot be opened or is not ready (schema behind, unreachable).
        """
        store = self._ready(lambda: self._existing(project))
        try:
            yield store
        finally:
            if store is not None:
                store.close()

    @contextmanager
    def opened(self, project: Path) -> Iterator[SessionStore]:
        """Open the store to change it (the project's file store is created when missing).

        Raises:
            StoreError: the store cannot be opened or is not ready (schema behind, unreachable).
        """
        store = self._ready(lambda: self._created(project))
        try:
            yield store
        finally:
            store.close()
