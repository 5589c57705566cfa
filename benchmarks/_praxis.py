"""Load the workflow path of a praxis-os checkout and run it on a scratch project.

Only what praxis-os's consolidated ``pos_workflow`` tool needs is loaded: its
dispatcher and handlers (``mcp_server/server/tools/workflow_tools``) over its
``WorkflowEngine`` and ``StateManager``. Three things stand in for parts of
praxis-os that this path imports but a benchmark cannot or need not run:

- the package ``__init__`` of ``mcp_server``, ``mcp_server.server`` and
  ``mcp_server.server.tools`` is not executed (they import the server factory,
  the RAG indexer and the browser tools); the packages are created empty with
  their folder as ``__path__``, and every module below them is praxis-os's own.
- ``lancedb`` (only when it is not installed) is an empty module: it is imported
  at the top of ``mcp_server.rag_engine`` and called only by
  ``RAGEngine.__init__``, which the stand-in below does not run.
- the RAG engine is praxis-os's ``RAGEngine`` with its query cache filled for
  every phase of the benchmarked workflow, as a running server has it after the
  first query of each phase. Its own ``search`` runs (cache key, lock, cache
  hit); a query that misses the cache fails the run instead of searching, since
  a real search needs an embedding model and a LanceDB index. praxis-os's
  figures for the actions that return phase content (start, get_phase,
  complete_phase) are therefore a lower bound: they leave out a vector search.

Everything else runs as praxis-os ships it, including its real dependencies
(``pyyaml`` and ``mistletoe`` must be installed; ``nox -s bench-praxis`` does it).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WORKFLOW = "spec_creation_v1"
"""The workflow both sides run; each side uses its own definition of it."""

REQUIRED_FILES = (
    "mcp_server/workflow_engine.py",
    "mcp_server/state_manager.py",
    "mcp_server/server/tools/workflow_tools/dispatcher.py",
    f"universal/workflows/{WORKFLOW}/metadata.json",
)
"""Files a praxis-os checkout must have for this benchmark."""

REAL_DEPENDENCIES = ("yaml", "mistletoe")
"""Third-party modules praxis-os's workflow path imports (not stood in for)."""

_BARE_PACKAGES = ("mcp_server", "mcp_server.server", "mcp_server.server.tools")
_CHUNKS_PER_QUERY = 5  # praxis-os asks its RAG engine for 5 chunks of phase content
_EVIDENCE_SAMPLES: dict[str, Any] = {
    "boolean": True,
    "integer": 1,
    "string": "done",
    "object": {"done": True},
    "list": ["done"],
}


class PraxisError(Exception):
    """The checkout cannot be benchmarked; the message says why and what to do."""


def checkout_problem(checkout: Path) -> str | None:
    """Return why ``checkout`` is not a usable praxis-os checkout, or ``None``."""
    missing = [name for name in REQUIRED_FILES if not (checkout / name).is_file()]
    if missing:
        return (
            f"{str(checkout)!r} is not a praxis-os checkout: {', '.join(missing)} missing. "
            "Pass the root of a praxis-os clone (the folder holding mcp_server/ and universal/)."
        )
    absent = [name for name in REAL_DEPENDENCIES if importlib.util.find_spec(name) is None]
    if absent:
        return (
            f"praxis-os's workflow path imports {', '.join(absent)}, which is not installed. "
            "Run the benchmark with `nox -s bench-praxis`, or install it into this environment "
            f"(`uv pip install {' '.join(absent)}`)."
        )
    if "mcp_server" in sys.modules:
        return "another module named mcp_server is already imported; run the benchmark on its own"
    return None


def checkout_commit(checkout: Path) -> str | None:
    """Return the commit of a git checkout, or ``None`` when it is not one."""
    if not (checkout / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


@dataclass(frozen=True)
class Praxis:
    """The praxis-os classes the benchmark drives, loaded from one checkout."""

    checkout: Path
    workflow_engine: Any
    state_manager: Any
    rag_engine: Any
    search_result: Any
    register_workflow_tools: Any
    stand_ins: tuple[str, ...]


def _bare_package(name: str, folder: Path) -> None:
    """Create package ``name`` over ``folder`` without running its ``__init__``."""
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def load_praxis(checkout: Path) -> Praxis:
    """Import praxis-os's workflow path from ``checkout`` (see the module docstring)."""
    problem = checkout_problem(checkout)
    if problem:
        raise PraxisError(problem)
    stand_ins = []
    if importlib.util.find_spec("lancedb") is None:
        sys.modules["lancedb"] = types.ModuleType("lancedb")
        stand_ins.append("lancedb")
    folder = checkout.resolve() / "mcp_server"
    for name in _BARE_PACKAGES:
        _bare_package(name, folder.joinpath(*name.split(".")[1:]))
    engine = importlib.import_module("mcp_server.workflow_engine")
    return Praxis(
        checkout=checkout,
        workflow_engine=engine.WorkflowEngine,
        state_manager=importlib.import_module("mcp_server.state_manager").StateManager,
        rag_engine=importlib.import_module("mcp_server.rag_engine").RAGEngine,
        search_result=importlib.import_module("mcp_server.models.rag").SearchResult,
        register_workflow_tools=importlib.import_module(
            "mcp_server.server.tools.workflow_tools.dispatcher"
        ).register_workflow_tools,
        stand_ins=tuple(stand_ins),
    )


def phase_chunks(phase_file: Path, phase: int) -> list[dict[str, Any]]:
    """Split a phase.md into header sections shaped like praxis-os's vector search chunks."""
    sections: list[tuple[str, list[str]]] = []
    for line in phase_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not sections:
            sections.append((line.lstrip("#").strip(), []))
        sections[-1][1].append(line)
    return [
        {
            "content": text,
            "file_path": f"{WORKFLOW}/phases/{phase}/phase.md",
            "section_header": header,
            "parent_headers": [],
            "token_count": len(text.split()),
            "phase": phase,
            "framework_type": WORKFLOW,
            "category": "workflow",
            "is_critical": "MANDATORY" in text or "CRITICAL" in text,
            "tags": [],
        }
        for header, lines in sections[:_CHUNKS_PER_QUERY]
        for text in ["\n".join(lines)]
    ]


def warm_rag_engine(praxis: Praxis, workflows: Path) -> Any:
    """Return praxis-os's RAG engine with its query cache filled for every phase of WORKFLOW."""

    class WarmCacheRAGEngine(praxis.rag_engine):  # type: ignore[name-defined,misc]
        """praxis-os's RAGEngine, query cache warm; a cache miss fails instead of searching."""

        def __init__(self) -> None:
            # RAGEngine.__init__ loads an embedding model and opens a LanceDB index;
            # these are the attributes its search() and cache methods use.
            self.cache_ttl_seconds = 3600
            self._query_cache: dict[str, tuple[Any, float]] = {}
            self._lock = threading.RLock()
            self._rebuilding = threading.Event()
            self.vector_search_available = False

        def _grep_fallback(self, query: str, n_results: int) -> Any:
            raise PraxisError(f"praxis-os RAG query {query!r} missed the pre-filled cache")

    rag = WarmCacheRAGEngine()
    for phase_file in sorted((workflows / WORKFLOW / "phases").glob("*/phase.md")):
        phase = int(phase_file.parent.name)
        chunks = phase_chunks(phase_file, phase)
        key = rag._generate_cache_key(f"{WORKFLOW} Phase {phase}", 5, {"phase": phase})
        rag._cache_result(
            key,
            praxis.search_result(
                chunks=chunks,
                total_tokens=sum(chunk["token_count"] for chunk in chunks),
                retrieval_method="vector",
                query_time_ms=0.0,
                relevance_scores=[0.0] * len(chunks),
            ),
        )
    return rag


def praxis_engine(praxis: Praxis, project: Path) -> Any:
    """Install the checkout's workflows into ``project`` and return an engine over it.

    The layout is a praxis-os installation's: workflows in ``.praxis-os/workflows``,
    sessions in ``.praxis-os/.cache/state``. praxis-os resolves some of these paths
    against the working directory, so run it with ``project`` as the working directory.
    """
    workflows = project / ".praxis-os" / "workflows"
    shutil.copytree(praxis.checkout / "universal" / "workflows", workflows)
    state = praxis.state_manager(state_dir=project / ".praxis-os" / ".cache" / "state")
    return praxis.workflow_engine(
        state_manager=state,
        rag_engine=warm_rag_engine(praxis, workflows),
        workflows_base_path=workflows,
    )


class _ToolRecorder:
    """Receives the ``@mcp.tool()`` registration of praxis-os's dispatcher."""

    def __init__(self) -> None:
        self.tools: dict[str, Any] = {}

    def tool(self, *_args: Any, **_kwargs: Any) -> Any:
        def register(function: Any) -> Any:
            self.tools[function.__name__] = function
            return function

        return register


def praxis_tool(praxis: Praxis, engine: Any) -> Any:
    """Return praxis-os's ``pos_workflow`` tool function, registered over ``engine``."""
    recorder = _ToolRecorder()
    praxis.register_workflow_tools(recorder, engine, None, None)
    return recorder.tools["pos_workflow"]


def praxis_evidence(project: Path, phase: int) -> dict[str, Any]:
    """Return evidence that satisfies praxis-os's gate-definition.yaml of ``phase``."""
    gate_file = project / ".praxis-os" / "workflows" / WORKFLOW / "phases" / str(phase)
    gate = yaml.safe_load((gate_file / "gate-definition.yaml").read_text(encoding="utf-8"))
    return {
        name: _EVIDENCE_SAMPLES.get(field.get("type"), "done")
        for name, field in gate["evidence_schema"].items()
    }


def seed_praxis(engine: Any, count: int) -> None:
    """Add ``count`` fresh sessions through praxis-os's own StateManager.

    ``create_session`` writes a session as praxis-os's start does, without start's
    scan of every existing session (which would make seeding quadratic).
    """
    total = engine.load_workflow_metadata(WORKFLOW).total_phases
    for index in range(count):
        engine.state_manager.create_session(
            WORKFLOW, f"src/seed_{index}.py", {"total_phases": total}
        )


def praxis_session_count(engine: Any) -> int:
    """Return how many session files praxis-os has."""
    return sum(1 for _ in Path(engine.state_manager.state_dir).glob("*.json"))
