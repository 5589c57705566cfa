"""Every gate of pos_workflow is a nox session.

Each session syncs the uv workspace (all packages, the dev group, the lock file)
into its own virtualenv, because ``session.install`` would not reinstall local
packages when a venv is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile
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
    """Run the whole test suite with coverage, then enforce the coverage floors.

    Arguments after ``--`` go to pytest and narrow the run: ``-- -m "not slow"`` is the fast
    lane. A ``-m`` given there is combined with the session's own ``not servers`` (pytest
    keeps only the last ``-m``). The floors hold for the whole suite only, so a narrowed run
    skips them and measures no coverage unless asked (``--cov``).
    """
    sync(session, "dev")
    # The multi-server PostgreSQL tests take minutes: `nox -s postgres` runs them.
    marks, args = "not servers", []
    given = iter(session.posargs)
    for arg in given:
        if not arg.startswith("-m"):
            args.append(arg)
            continue
        expression = arg[2:] or next(given, "")  # "-m EXPR" or "-mEXPR", as pytest takes them
        if not expression:
            session.error("-m needs a marker expression, e.g. -- -m 'not slow'")
        marks = f"({marks}) and ({expression})"
    if session.posargs:
        session.run("pytest", "-m", marks, *args)
        session.log(
            "coverage floors skipped: arguments narrowed the run (floors are for the whole suite)"
        )
        return
    session.run("pytest", "--cov", "--cov-report=", "-m", marks)
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
def inspector(session: nox.Session) -> None:
    """A second MCP client: the MCP Inspector's CLI (npx, Node.js) calls every action."""
    sync(session)
    session.run("python", "scripts/inspector.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Random input at every door (MCP arguments, JSON-RPC lines, definitions, evidence).

    Fails on any crash, hang or leak; ``-- --examples N`` sets the budget per target.
    """
    sync(session, "dev")
    session.run("python", "scripts/fuzz.py", *session.posargs)


@nox.session
def postgres(session: nox.Session) -> None:
    """The PostgreSQL store on a real server: every PG test (conformance, migrations, CLI,
    2-4 HTTP servers on one database), its coverage floor, then the store benchmark.

    The server is Debian's ``postgresql`` (``.ci/run`` installs it); without it this
    session fails rather than skips. `-- --sizes 10000 1000000` benchmarks a million
    sessions (a manual run: about ten minutes).
    """
    sync(session, "dev")
    env = {"POS_REQUIRE_POSTGRES": "1"}
    bench = list(session.posargs) or ["--sizes", "10000"]
    session.run(
        "pytest",
        "-m",
        "postgres",
        "-rP",
        "--cov=pos_store_postgres",
        "--cov-report=",
        "packages/store-postgres",
        env=env,
    )
    session.run("coverage", "report", "--fail-under=90")
    session.run("python", "benchmarks/bench_store.py", *bench, "--check", env=env)


@nox.session
def perf(session: nox.Session) -> None:
    """Benchmarks compared with specs/thresholds.json; fails when a figure is over."""
    sync(session, "dev")
    session.run("python", "benchmarks/bench_engine.py", "--check")
    session.run("python", "benchmarks/bench_spec_parse.py", "--check")
    session.run("python", "scripts/perf.py", *session.posargs)


def debian_packages(session: nox.Session, needed: dict[str, str]) -> None:
    """Install the Debian packages whose command (key) is missing, as root or through sudo."""
    missing = sorted({package for command, package in needed.items() if not shutil.which(command)})
    if not missing:
        return
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which("sudo"):
        prefix = ["sudo", "-n"]
    else:
        session.error(f"missing {', '.join(missing)}: run apt-get install -y {' '.join(missing)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run(*prefix, "apt-get", "update", "-q", external=True, env=env)
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    session.run(*prefix, *install, external=True, env=env)


MONITORING_TESTS = [
    "packages/tool/tests/test_alerts.py",
    "packages/tool/tests/test_monitoring_config.py",
    "packages/tool/tests/test_metrics_store.py",
    "packages/tool/tests/test_monitoring_http.py",
    "packages/tool/tests/test_dashboard_browser.py",
    "packages/tool/tests/test_prometheus_e2e.py",
]


@nox.session
def monitoring(session: nox.Session) -> None:
    """Alerts fire and resolve; promtool checks and unit-tests the rules; Chromium renders the dashboard.

    Installs Debian's chromium and prometheus (promtool) when missing. Then: the monitoring
    tests (a real Chromium and a real Prometheus required), the metrics overhead against
    specs/thresholds.json, and the dashboard screenshot script (into a temporary folder;
    `-- --screenshot docs/images/dashboard.png` renders the documentation's one).
    """
    sync(session, "dev")
    debian_packages(session, {"chromium": "chromium", "promtool": "prometheus"})
    rules = ROOT / "deploy" / "prometheus"
    session.run("promtool", "check", "config", str(rules / "prometheus.yml"), external=True)
    session.run("promtool", "check", "rules", str(rules / "alerts.yml"), external=True)
    session.run("promtool", "test", "rules", str(rules / "alerts.test.yml"), external=True)
    env = {"POS_REQUIRE_CHROMIUM": "1", "POS_REQUIRE_PROMETHEUS": "1"}
    session.run("pytest", "-p", "no:cacheprovider", "-q", *MONITORING_TESTS, env=env)
    session.run("python", "scripts/metrics_overhead.py", "--check")
    screenshot = Path(session.create_tmp()) / "dashboard.png"
    if "--screenshot" in session.posargs:
        screenshot = Path(session.posargs[session.posargs.index("--screenshot") + 1]).resolve()
    session.run("python", "scripts/monitoring_demo.py", "--screenshot", str(screenshot))


@nox.session(name="bench-praxis")
def bench_praxis(session: nox.Session) -> None:
    """pos_workflow side by side with a praxis-os checkout (`-- --praxis PATH`); skips without one."""
    sync(session)
    # praxis-os's workflow path imports mistletoe (its Markdown parser). It is praxis-os's
    # dependency, not ours, so it is installed here rather than locked with the workspace.
    session.install("mistletoe>=1.4,<2")
    session.run("python", "benchmarks/bench_praxis.py", *session.posargs)


@nox.session(name="bench-cold-start")
def bench_cold_start(session: nox.Session) -> None:
    """Start-up and exit figures: the CLI commands, `pos-cutover check`, serve's first tools/list and exit."""
    sync(session)
    session.run("python", "benchmarks/bench_cold_start.py", *session.posargs)


@nox.session(name="bench-write-path")
def bench_write_path(session: nox.Session) -> None:
    """start and complete_phase against the durable-write floor, with and without fsync."""
    sync(session)
    session.run("python", "benchmarks/bench_write_path.py", *session.posargs)


@nox.session(name="bench-http")
def bench_http(session: nox.Session) -> None:
    """get_state req/s over Streamable HTTP at 1, 8 and 32 clients (SDK and raw JSON-RPC clients)."""
    sync(session)
    session.run("python", "benchmarks/bench_http.py", *session.posargs)


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
    """Build the MkDocs site with --strict (any warning fails) into a temporary folder.

    ``-- serve`` serves it on http://127.0.0.1:8000/ instead, rebuilding on every edit
    (``-- serve --port N`` for another port).
    """
    sync(session, "docs")
    # NO_MKDOCS_2_WARNING silences Material's end-of-life banner; build warnings still fail.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    if session.posargs[:1] == ["serve"]:
        port = session.posargs[2] if session.posargs[1:2] == ["--port"] else "8000"
        session.log(f"the documentation is at http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        session.run("mkdocs", "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}", env=env)
        return
    site = Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--clean", "--site-dir", str(site), env=env)


# ------------------------------------------------------------------ cutover


DEMO_PROJECT = ROOT / ".nox" / "_demo" / "cutover-demo"
"""The embedded demo project that `cutover` and `rollback` share (`.nox` is not tracked)."""
DEMO_REGISTRY_BEFORE = DEMO_PROJECT.parent / "tool-registry.before.json"
DEMO_TREE_BEFORE = DEMO_PROJECT.parent / "tree.before.json"
"""sha256 of every file of the demo as materialised, before any cutover."""


# The file store's index (FileSessionStore.project_index_dir): a cache whose bytes follow
# the order of writes, rebuilt from the session records when missing; never compared.
_NOT_COMPARED = (".praxis-os/backups/", ".praxis-os/state/workflows/.index/")


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, the cutover's backups and the store's index aside."""
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (rel := p.relative_to(root).as_posix()).startswith(_NOT_COMPARED)
    }


def _demo_project(session: nox.Session, *, fresh: bool = False) -> Path:
    """Return the demo project, materialising it (sessions started through the old tools) if absent."""
    if fresh and DEMO_PROJECT.exists():
        shutil.rmtree(DEMO_PROJECT)
    if not DEMO_PROJECT.exists():
        DEMO_PROJECT.parent.mkdir(parents=True, exist_ok=True)
        session.run("pos-cutover", "demo", str(DEMO_PROJECT), env={"PYTHONUNBUFFERED": "1"})
        registry = DEMO_PROJECT / ".praxis-os" / "config" / "tool-registry.json"
        shutil.copyfile(registry, DEMO_REGISTRY_BEFORE)
        DEMO_TREE_BEFORE.write_text(json.dumps(_tree(DEMO_PROJECT), indent=1), encoding="utf-8")
    return DEMO_PROJECT


def _cutover_args(session: nox.Session) -> tuple[list[str], bool]:
    """Split the session's arguments into pos-cutover's and whether the demo project is used.

    A ``--`` among them (``nox -s cutover -- -- --project P``) is dropped.
    """
    args = [a for a in session.posargs if a not in ("--fresh", "--")]
    if "--project" in args:
        return args, False
    demo = _demo_project(session, fresh="--fresh" in session.posargs)
    return ["--project", str(demo), *args], True


@nox.session
def cutover(session: nox.Session) -> None:
    """`pos-cutover run` on the embedded demo project, printing the report.

    The demo is a praxis-os project (config.json, client configs, legacy sessions) whose
    registry also names the old tools. It is kept between sessions: a second
    `nox -s cutover` is a no-op that says so, and `nox -s rollback` rolls it back.
    `-- --fresh` starts from a new demo; `-- --project PATH` runs on a real project
    instead (any other pos-cutover run option may follow, e.g. `--accept-unmigrated`).
    """
    sync(session)
    args, _ = _cutover_args(session)
    session.run("pos-cutover", "run", *args, env={"PYTHONUNBUFFERED": "1"})


@nox.session
def rollback(session: nox.Session) -> None:
    """`pos-cutover rollback` of the demo project, checking every file is byte-identical.

    A demo project that was never cut over is cut over first, so there is something to
    roll back. Afterwards every file of the demo (its backups aside) must have the
    sha256 it had when the demo was made. `-- --project PATH` rolls a real project
    back instead.
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
    if DEMO_TREE_BEFORE.exists():
        before, now = json.loads(DEMO_TREE_BEFORE.read_text(encoding="utf-8")), _tree(DEMO_PROJECT)
        differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        if differ:
            session.error(f"after rollback these files differ from the demo as made: {differ}")
        session.log(f"every file byte-identical after rollback: {len(now)} files (backups aside)")


@nox.session(venv_backend="none")
def staging(session: nox.Session) -> None:
    """Build the four wheels, install them in a clean venv (no workspace), run smoke and the cutover there."""
    tmp = Path(session.create_tmp()).resolve()
    dist, venv, demo = tmp / "dist", tmp / "staging-venv", tmp / "staging-demo"
    for path in (dist, venv, demo):
        if path.exists():
            shutil.rmtree(path)
    env = {"UV_PYTHON_DOWNLOADS": "never", "PYTHONUNBUFFERED": "1"}
    session.run("uv", "build", "--all-packages", "--wheel", "-o", str(dist), external=True, env=env)
    wheels = sorted(str(p) for p in dist.glob("*.whl"))
    if len(wheels) != 4:
        session.error(f"expected 4 wheels, got {wheels}")
    for wheel in wheels:  # each wheel carries its licence and its metadata
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
            text = archive.read(metadata).decode()
        if (
            not any(n.endswith("licenses/LICENSE") for n in names)
            or "License-Expression: MIT" not in text
        ):
            session.error(f"{Path(wheel).name}: no LICENSE or no MIT licence in its metadata")
        if "Classifier: Typing :: Typed" not in text:
            session.error(f"{Path(wheel).name}: no classifiers in its metadata")
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
    # The PostgreSQL backend registers its URL schemes with the engine from its wheel.
    where = (
        "import pos_cutover, pos_tool, pos_store_postgres; print(pos_tool.__file__); "
        "from importlib.metadata import entry_points; "
        "names = sorted(entry_points(group='pos_engine.stores').names); print(names); "
        "assert names == ['postgres', 'postgresql'], names"
    )
    session.run(str(bin_dir / "python"), "-c", where, external=True)
    session.run(str(bin_dir / "python"), str(ROOT / "scripts" / "smoke.py"), external=True, env=env)
    session.run(str(bin_dir / "pos-cutover"), "demo", str(demo), external=True, env=env)
    run = [str(bin_dir / "pos-cutover"), "run", "--project", str(demo), "--environment", "staging"]
    session.run(*run, external=True, env=env)
    # The dashboard's assets (page, script, uPlot) ship in the wheel: render it from there.
    page = tmp / "dashboard.html"
    dashboard = [str(bin_dir / "pos-workflow"), "dashboard", "--project-root", str(demo)]
    session.run(*dashboard, "--output", str(page), external=True, env=env)
    session.run(str(bin_dir / "pos-workflow"), "stats", "--project-root", str(demo), external=True)
