"""What every benchmark shares: quiet libraries, timing, the machine's description, output.

Each benchmark prints a table for people and exactly one line ``RESULT {...}`` (JSON) for
tools; the line carries the machine description so that a figure is never read without it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

RESULT_PREFIX = "RESULT "


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of the module docstring, with ``--quick``."""
    first = (doc or "").strip().split("\n\n")[0]
    p = argparse.ArgumentParser(description=first, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny settings (under 2 minutes): checks that the script runs")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice, one per core)")
    return p


def apply_threads(threads: int | None) -> None:
    """Set torch's thread count when asked.

    On a machine shared with other processes, two OpenMP threads on two cores can be far
    slower than one: every parallel region waits at its barrier for a descheduled thread.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def quiet() -> None:
    """Offline, no telemetry, no library chatter between the benchmark's own lines (as the study does)."""
    from study.cli import quiet_libraries

    quiet_libraries(allow_hub=False)
    import optuna

    # optuna.logging sets its own level on first use; only set_verbosity sticks.
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class Timing:
    """Wall-clock and process CPU seconds of one timed block.

    CPU seconds count every thread of this process, so on a shared machine ``cpu / wall``
    below the thread count shows time lost to other processes.
    """

    wall: float = math.nan
    cpu: float = math.nan


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall
        timing.cpu = time.process_time() - cpu


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Versions, cores, threads, accelerator and current load: what a reader needs to weigh a figure."""
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    for package in ("transformers", "trl", "peft", "optuna"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:
            info[package] = None
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def load_avg() -> float | None:
    """One-minute load average (above the core count: the machine was shared during the run)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _clean(value: Any) -> Any:
    # JSON has no NaN or infinity; round floats so the line stays readable.
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def result_line(name: str, mode: str, figures: dict[str, Any], machine_info: dict[str, Any]) -> str:
    """The one JSON line a benchmark prints: its name, mode, figures and the machine."""
    body = {"benchmark": name, "mode": mode, **figures, "machine": machine_info}
    return RESULT_PREFIX + json.dumps(_clean(body), sort_keys=False)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; floats get 4 significant digits."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if not math.isfinite(value) else f"{value:.4g}"
        return "-" if value is None else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def report(name: str, mode: str, title: str, body: str, figures: dict[str, Any], notes: Sequence[str] = ()) -> None:
    """Print the table, the notes and the ``RESULT`` line, in that order, to stdout."""
    info = machine()
    print()
    print(f"== {name} ({mode}): {title}")
    print(f"machine: {info['cpu']}, {info['logical_cores']} logical cores, {info['torch_threads']} torch threads, "
          f"Python {info['python']}, torch {info['torch']}" + (f", {info['gpu']}" if "gpu" in info else ""))
    print(body)
    for note in notes:
        print(f"note: {note}")
    print(result_line(name, mode, figures, info), flush=True)


def progress(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the table and the RESULT line."""
    print(message, file=sys.stderr, flush=True)


def trial_config(device: str = "cpu", **sections: dict[str, Any]) -> Any:
    """A :class:`study.core.config.TrialConfig` for the default model with some section values fixed.

    ``trial_config(data={"max_train_examples": 8}, training={"epochs": 1})``; every other
    value is the config's default.
    """
    from study.core.config import SECTIONS, TrialConfig

    raw: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    raw["model"]["device"] = device
    for name, values in sections.items():
        raw[name].update(values)
    return TrialConfig.from_dict(raw, where="benchmark settings")
