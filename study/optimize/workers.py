"""Several worker processes on this machine, all on one study (``python -m study.run --workers K``).

Each worker is the same command as a process of its own (``--workers 1 --worker-id i``), so
it behaves exactly like a worker started by hand on another machine. On CUDA, worker ``i``
sees one GPU (``CUDA_VISIBLE_DEVICES``, round robin over the visible ones); on the CPU the
cores are split between the workers (``OMP_NUM_THREADS``). The workers run in sessions of
their own: Ctrl-C reaches this process only, which passes it on once to each worker, so that
each ends its running trial cleanly; a second Ctrl-C kills them (their trials are failed and
re-queued by the next worker through the heartbeat, see :mod:`study.optimize.recovery`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

WORKER_MODULE = "study.run"  # what each worker runs: python -m WORKER_MODULE ARGS


@dataclass(frozen=True)
class WorkersOutcome:
    exit_codes: list[int]
    interrupted: bool  # Ctrl-C (or SIGTERM) reached this process


def visible_gpus(device: str, environ: Mapping[str, str]) -> list[str]:
    """The GPU ids the workers may use: none on the CPU, else CUDA_VISIBLE_DEVICES or every device."""
    if device == "cpu":
        return []
    import torch

    if not torch.cuda.is_available():
        return []
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip()]
    return [str(i) for i in range(torch.cuda.device_count())]


def worker_env(index: int, workers: int, gpus: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Environment of worker ``index``: its GPU, and its share of the CPU cores."""
    env = dict(environ)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env.setdefault("OMP_NUM_THREADS", threads)
    env.setdefault("MKL_NUM_THREADS", threads)
    return env


def worker_command(argv: Sequence[str], index: int) -> list[str]:
    # argparse keeps the last value of a repeated flag, so these override the user's.
    return [sys.executable, "-m", WORKER_MODULE, *argv, "--workers", "1", "--worker-id", str(index), "--no-progress"]


def run_workers(argv: Sequence[str], workers: int, device: str) -> WorkersOutcome:
    """Start ``workers`` processes running ``argv`` and wait for all of them."""
    gpus = visible_gpus(device, os.environ)
    if gpus and workers > len(gpus):
        print(f"note: {workers} workers share {len(gpus)} GPU(s)", file=sys.stderr, flush=True)
    procs = [
        subprocess.Popen(worker_command(argv, i), env=worker_env(i, workers, gpus, os.environ), start_new_session=True)
        for i in range(workers)
    ]
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            _wait(procs)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: each worker ends its running trial (Ctrl-C again to kill them)",
                  file=sys.stderr, flush=True)
            _signal(procs, signal.SIGINT)
            try:
                _wait(procs)
            except KeyboardInterrupt:
                _signal(procs, signal.SIGKILL)
                _wait(procs)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return WorkersOutcome([p.returncode for p in procs], interrupted)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait(procs: Sequence[subprocess.Popen]) -> None:
    for proc in procs:
        proc.wait()


def _signal(procs: Sequence[subprocess.Popen], signum: int) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signum)
