"""The verdict of the performance gate: absolute targets, a margin, and same-run baselines.

A figure is compared with its absolute limit from ``specs/thresholds.json`` (the plan's
target) and, where it is load-sensitive, with a baseline measured in the same run on the
same machine (the floor of one durable write, a bare stat of every record, a no-op MCP
call). A slow or loaded machine slows the baseline as much as the figure, so:

- ``PASS``: within the limit;
- ``SLOW``: over the limit, but within ``gate.margin`` times it, or within its ratio to
  the baseline: reported, never failing;
- ``FAIL``: over ``margin`` times the limit *and* over its ratio to the baseline (or over
  the limit times the margin when it has no baseline).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS: dict[str, Any] = json.loads(
    (ROOT / "specs" / "thresholds.json").read_text(encoding="utf-8")
)
GATE: dict[str, Any] = THRESHOLDS["gate"]


@dataclass(frozen=True)
class Verdict:
    """One figure judged: its value, its limit, and its baseline (if it has one)."""

    name: str
    value: float
    limit: float
    unit: str = "ms"
    baseline: str | None = None
    baseline_value: float | None = None
    max_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        """The figure over its baseline, when it has one."""
        if self.baseline_value is None or self.baseline_value <= 0:
            return None
        return self.value / self.baseline_value

    @property
    def result(self) -> str:
        """``PASS``, ``SLOW`` (over the target, within the margin or ratio) or ``FAIL``."""
        if self.value <= self.limit:
            return "PASS"
        if self.value <= self.limit * float(GATE["margin"]):
            return "SLOW"
        ratio = self.ratio
        if ratio is not None and self.max_ratio is not None and ratio <= self.max_ratio:
            return "SLOW"
        return "FAIL"

    def line(self) -> str:
        """The figure as one printed line: result, value, limit, and the baseline comparison."""
        unit = f" {self.unit}" if self.unit else ""
        text = (
            f"{self.result} {self.name}: {self.value:.2f}{unit} "
            f"(limit {self.limit:g}{unit}, fails over {self.limit * float(GATE['margin']):g}{unit}"
        )
        if self.baseline is not None and self.baseline_value is not None:
            ratio = self.ratio
            shown = f"{ratio:.1f}x" if ratio is not None else "n/a"
            text += (
                f" and over {self.max_ratio:g}x {self.baseline} "
                f"[{self.baseline_value:.3f}{unit} here: {shown}]"
            )
        return text + ")"


def judge(
    name: str,
    value: float,
    limit: float,
    *,
    section: str,
    key: str,
    baselines: dict[str, float],
    unit: str = "ms",
) -> Verdict:
    """Judge ``value`` against ``limit`` and the ratio ``gate.baseline_ratio[section][key]``."""
    spec = GATE["baseline_ratio"].get(section, {}).get(key)
    if spec is None:
        return Verdict(name, value, limit, unit)
    baseline, max_ratio = str(spec[0]), float(spec[1])
    return Verdict(name, value, limit, unit, baseline, baselines.get(baseline), max_ratio)


def timed_ms(call: Callable[[], Any], repeat: int) -> list[float]:
    """Time ``call`` ``repeat`` times; return milliseconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def write_durably(fd: int, path: str | Path, data: bytes, target: Path) -> None:
    """Write ``data`` to ``fd`` (open on ``path``), fsync, close, rename over ``target``, fsync its folder."""
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(path, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def durable_write_samples(folder: Path, repeat: int, size: int = 4096) -> list[float]:
    """The floor of one durable record write: temp file, fsync, rename, fsync the folder."""
    data = os.urandom(size)
    target = folder / "floor.json"

    def write() -> None:
        write_durably(*tempfile.mkstemp(dir=folder, suffix=".tmp"), data, target)

    return timed_ms(write, repeat)


def stat_scan_samples(folder: Path, repeat: int) -> list[float]:
    """A bare scan of ``folder`` with one stat per entry (what a rescan-based listing costs)."""

    def scan() -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                entry.stat(follow_symlinks=False)

    return timed_ms(scan, repeat)


def record_read_samples(path: Path, repeat: int) -> list[float]:
    """Open, read and parse one record: the floor of a read that goes to the file."""
    return timed_ms(lambda: json.loads(path.read_bytes()), repeat)
