"""Every gate of pos_workflow is a nox session.

Each session syncs the uv workspace (all packages, the dev group, the lock file)
into its own virtualenv, because ``session.install`` would not reinstall local
packages when a venv is reused.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint", "security", "contracts", "smoke"]
nox.options.download_python = "never"

ROOT = Path(__file__).parent
SOURCES = [str(p) for p in sorted(ROOT.glob("packages/*/src"))]
# Coverage floors: the engine overall, and every line of the input guards.
COVERAGE_FLOORS = {
    "*/pos_engine/*": 90,
    "*/pos_engine/guards.py": 100,
}


def sync(session: nox.Session, *groups: str) -> None:
    """Install the whole workspace (locked) into the session's virtualenv."""
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_PYTHON_DOWNLOADS": "never"}
    args = ["uv", "sync", "--locked", "--all-packages", "--inexact"]
    for group in groups:
        args += ["--group", group]
    session.run_install(*args, env=env, silent=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite with coverage, then enforce the coverage floors."""
    sync(session, "dev")
    session.run("pytest", "--cov", "--cov-report=", *session.posargs)
    session.run("coverage", "report", "--fail-under=90")
    for pattern, floor in COVERAGE_FLOORS.items():
        session.log(f"coverage floor {floor}% for {pattern}")
        session.run("coverage", "report", f"--include={pattern}", f"--fail-under={floor}")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format), mypy strict on every package's src, pylint on the tool's dispatcher."""
    sync(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", *SOURCES)
    dispatcher = [str(p) for p in sorted(ROOT.glob("packages/tool/src/pos_tool/_actions.py"))]
    dispatcher += [str(p) for p in sorted(ROOT.glob("packages/tool/src/pos_tool/_tool.py"))]
    if dispatcher:
        session.run("pylint", "--fail-under=9.0", *dispatcher)


@nox.session
def security(session: nox.Session) -> None:
    """bandit over every package's src: no finding of medium severity or higher."""
    sync(session, "dev")
    session.run("bandit", "-c", "pyproject.toml", "-r", *SOURCES, "--severity-level", "medium")


@nox.session
def contracts(session: nox.Session) -> None:
    """Check every schema in specs/, its examples, and live server responses against them."""
    sync(session, "dev")
    session.run("python", "scripts/contracts.py", *session.posargs)


@nox.session
def smoke(session: nox.Session) -> None:
    """Start the real server over stdio and call all 14 actions through the MCP client."""
    sync(session, "dev")
    session.run("python", "scripts/smoke.py", *session.posargs)


@nox.session
def perf(session: nox.Session) -> None:
    """Benchmarks compared with specs/thresholds.json; fails when a figure is over."""
    sync(session, "dev")
    session.run("python", "benchmarks/bench_engine.py", "--check")
    session.run("python", "scripts/perf.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: drive a bundled workflow through the real MCP server, step by step."""
    sync(session)
    session.run("pos-workflow", "demo", *session.posargs, env={"PYTHONUNBUFFERED": "1"})


@nox.session(name="engine-demo")
def engine_demo(session: nox.Session) -> None:
    """Run a bundled workflow through the engine alone (no MCP)."""
    sync(session)
    session.run("python", "-m", "pos_engine", *session.posargs)
