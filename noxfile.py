"""Every gate of pos_workflow is a nox session.

Each session syncs the uv workspace (all packages, the dev group, the lock file)
into its own virtualenv, because ``session.install`` would not reinstall local
packages when a venv is reused.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint", "security", "contracts", "smoke", "docs"]
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


@nox.session(name="bench-praxis")
def bench_praxis(session: nox.Session) -> None:
    """pos_workflow side by side with a praxis-os checkout (`-- --praxis PATH`); skips without one."""
    sync(session)
    # praxis-os's workflow path imports mistletoe (its Markdown parser). It is praxis-os's
    # dependency, not ours, so it is installed here rather than locked with the workspace.
    session.install("mistletoe>=1.4,<2")
    session.run("python", "benchmarks/bench_praxis.py", *session.posargs)


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


@nox.session
def docs(session: nox.Session) -> None:
    """Build the MkDocs site with --strict (any warning fails) into a temporary folder."""
    sync(session, "docs")
    site = Path(session.create_tmp()) / "site"
    # NO_MKDOCS_2_WARNING silences Material's end-of-life banner; build warnings still fail.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--clean", "--site-dir", str(site), env=env)


# ------------------------------------------------------------------ cutover


DEMO_PROJECT = ROOT / ".nox" / "_demo" / "cutover-demo"
"""The embedded demo project that `cutover` and `rollback` share (`.nox` is not tracked)."""
DEMO_REGISTRY_BEFORE = DEMO_PROJECT.parent / "tool-registry.before.json"


def _demo_project(session: nox.Session, *, fresh: bool = False) -> Path:
    """Return the demo project, materialising it (sessions started through the old tools) if absent."""
    if fresh and DEMO_PROJECT.exists():
        shutil.rmtree(DEMO_PROJECT)
    if not DEMO_PROJECT.exists():
        DEMO_PROJECT.parent.mkdir(parents=True, exist_ok=True)
        session.run("pos-cutover", "demo", str(DEMO_PROJECT), env={"PYTHONUNBUFFERED": "1"})
        registry = DEMO_PROJECT / ".praxis-os" / "config" / "tool-registry.json"
        shutil.copyfile(registry, DEMO_REGISTRY_BEFORE)
    return DEMO_PROJECT


def _cutover_args(session: nox.Session) -> tuple[list[str], bool]:
    """Split the session's arguments into pos-cutover's and whether the demo project is used."""
    args = [a for a in session.posargs if a != "--fresh"]
    if "--project" in args:
        return args, False
    demo = _demo_project(session, fresh="--fresh" in session.posargs)
    return ["--project", str(demo), *args], True


@nox.session
def cutover(session: nox.Session) -> None:
    """`pos-cutover run` on the embedded demo project, printing the report.

    The demo project is kept between sessions: a second `nox -s cutover` is a no-op that
    says so, and `nox -s rollback` rolls it back. `-- --fresh` starts from a new demo;
    `-- --project PATH` runs on a real project instead.
    """
    sync(session)
    args, _ = _cutover_args(session)
    session.run("pos-cutover", "run", *args, env={"PYTHONUNBUFFERED": "1"})


@nox.session
def rollback(session: nox.Session) -> None:
    """`pos-cutover rollback` of the demo project, checking its registry is byte-identical.

    A demo project that was never cut over is cut over first, so there is something to
    roll back. `-- --project PATH` rolls a real project back instead.
    """
    sync(session)
    args, on_demo = _cutover_args(session)
    env = {"PYTHONUNBUFFERED": "1"}
    if not on_demo:
        session.run("pos-cutover", "rollback", *args, env=env)
        return
    registry = DEMO_PROJECT / ".praxis-os" / "config" / "tool-registry.json"
    if registry.read_bytes() == DEMO_REGISTRY_BEFORE.read_bytes():
        session.log("the demo project is not cut over: cutting it over first")
        session.run("pos-cutover", "run", *args, env=env)
    session.run("pos-cutover", "rollback", *args, env=env)
    after = registry.read_bytes()
    if after != DEMO_REGISTRY_BEFORE.read_bytes():
        session.error("the registry after rollback differs from the one before the cutover")
    digest = hashlib.sha256(after).hexdigest()
    session.log(f"registry byte-identical after rollback: {len(after)} bytes, sha256 {digest}")


@nox.session(venv_backend="none")
def staging(session: nox.Session) -> None:
    """Build the three wheels, install them in a clean venv (no workspace), run smoke and the cutover there."""
    tmp = Path(session.create_tmp()).resolve()
    dist, venv, demo = tmp / "dist", tmp / "staging-venv", tmp / "staging-demo"
    for path in (dist, venv, demo):
        if path.exists():
            shutil.rmtree(path)
    env = {"UV_PYTHON_DOWNLOADS": "never", "PYTHONUNBUFFERED": "1"}
    session.run("uv", "build", "--all-packages", "--wheel", "-o", str(dist), external=True, env=env)
    wheels = sorted(str(p) for p in dist.glob("*.whl"))
    if len(wheels) != 3:
        session.error(f"expected 3 wheels, got {wheels}")
    # The lock file's versions of the third-party dependencies, without the workspace packages.
    constraints = tmp / "constraints.txt"
    export = ["uv", "export", "--frozen", "--all-packages", "--no-emit-workspace", "--no-hashes"]
    session.run(*export, "--no-dev", "-o", str(constraints), external=True, env=env, silent=True)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    session.run("uv", "venv", str(venv), "--python", version, external=True, env=env)
    bin_dir = venv / "bin"
    install = ["uv", "pip", "install", "--python", str(bin_dir / "python")]
    session.run(*install, *wheels, "-c", str(constraints), external=True, env=env)
    # Outside the repository, so nothing can be imported from the workspace by accident.
    session.chdir(tmp)
    where = "import pos_cutover, pos_tool; print(pos_tool.__file__)"
    session.run(str(bin_dir / "python"), "-c", where, external=True)
    session.run(str(bin_dir / "python"), str(ROOT / "scripts" / "smoke.py"), external=True, env=env)
    session.run(str(bin_dir / "pos-cutover"), "demo", str(demo), external=True, env=env)
    run = [str(bin_dir / "pos-cutover"), "run", "--project", str(demo), "--environment", "staging"]
    session.run(*run, external=True, env=env)
