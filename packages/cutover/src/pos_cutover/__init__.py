"""pos_cutover: move an MCP server from the old workflow tools to pos_workflow, prove it, undo it.

``pos-cutover run`` (or :meth:`Cutover.run`) chains check -> backup -> apply ->
verify -> report and rolls back by itself when verification fails. Each step is
also available on its own. Extra pre-checks plug in with :func:`register_check`,
extra migration work with :func:`register_migration_step`.

Importing the package registers the legacy support: the pre-checks
``legacy-definitions`` and ``legacy-sessions`` and the migration step
``legacy-sessions`` (:data:`LEGACY_SESSIONS_STEP`), which moves the legacy
session files of ``.praxis-os/.cache/state/`` into the session store and whose
undo removes exactly what it created; and the praxis-os support: the pre-checks
``praxis-server``, ``clients``, ``agent-instructions`` and ``surface``. On a
praxis-os project the cutover also rewrites ``.praxis-os/config.json`` and the
client configs that launch the praxis server (see :class:`ChangeOptions`), all
journaled and rolled back byte for byte.

The package imports its parts on first use of a public name (PEP 562): that first
use registers the built-ins above, and ``pos-cutover --help``, ``--version`` and
``guide`` never import the MCP SDK.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._exit import package_version as _package_version

if TYPE_CHECKING:
    from ._api import *  # noqa: F403 - the public names (_api.__all__), for type checkers

__version__ = _package_version()


def _public_api() -> ModuleType:
    """The public API (``_api``), imported in full on first use: that registers the built-ins."""
    return importlib.import_module("._api", __name__)


def __getattr__(name: str) -> Any:
    """Import the whole public API on first use of one of its names, then keep them here."""
    if name == "__all__":  # the list lives with the imports, in ``_api``
        return [*_public_api().__all__, "__version__"]
    if name.startswith("__"):  # attribute probes (``__wrapped__``...) import nothing
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    api = _public_api()
    if name not in api.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals().update({public: getattr(api, public) for public in api.__all__})
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_public_api().__all__})
