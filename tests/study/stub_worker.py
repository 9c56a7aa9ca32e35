"""``python -m study.run`` with stub trials: the storage, the loop and the workers are what is tested.

    PYTHONPATH=tests/study python -m stub_worker --space smoke --model DIR --data qa.jsonl --storage URL ...

Everything but the fine-tune (and the metrics' self-check on the data) is the real command (flags,
storage, heartbeats, --workers, which start ``python -m stub_worker`` again). The environment says what a trial does:
``STUB_TRIAL`` is ``ok`` (default: returns at once), ``sleep:SECONDS``, ``random:LOW:HIGH``
(sleeps a random number of seconds in that range), ``hang`` (until interrupted or killed, at most 600 s),
``wait:PATH`` (until the file PATH exists, at most 600 s: the test says when the trial ends),
``fail`` (raises) or ``oom`` (raises ``torch.OutOfMemoryError``, as CUDA does); with
``STUB_LOG=path`` each finished trial appends ``pid learning_rate`` to that file, so that a
test can count how often each configuration ran. ``STUB_ANSWERS=N`` returns N answers, which
the worker uploads to its ``--artifact-dir``; while the file ``STUB_DISK_FULL`` names exists,
each upload fails with ``ENOSPC`` (a full disk, where none can be mounted).
"""

from __future__ import annotations

import errno
import os
import random
import sys
import time
from types import SimpleNamespace
from typing import Any

import objectives._selfcheck
import study.optimize.dashboard
import study.optimize.workers
import study.run

HANG_SECONDS = 600


def stub_trial(cfg: Any, monitor: Any) -> SimpleNamespace:
    mode = os.environ.get("STUB_TRIAL", "ok")
    if mode.startswith("sleep:"):
        time.sleep(float(mode.partition(":")[2]))
    elif mode.startswith("random:"):
        _, low, high = mode.split(":")
        time.sleep(random.uniform(float(low), float(high)))
    elif mode == "oom":
        import torch

        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (stub)")
    elif mode == "hang":  # until interrupted; a worker its test lost (a failed test) ends after HANG_SECONDS
        deadline = time.monotonic() + HANG_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
        raise RuntimeError(f"stub trial hung for {HANG_SECONDS} s and nobody stopped it")
    elif mode.startswith("wait:"):
        gate, deadline = mode.partition(":")[2], time.monotonic() + HANG_SECONDS
        while not os.path.exists(gate):
            if time.monotonic() > deadline:
                raise RuntimeError(f"stub trial waited {HANG_SECONDS} s for {gate} and nobody created it")
            time.sleep(0.05)
    elif mode == "fail":
        raise RuntimeError("stub trial failed")
    lr = cfg.training.learning_rate
    metrics = {"rougeL": lr, "bertscore_f1": 1.0 - lr, "train_seconds": 1.0, "eval_loss": 1.0 / lr}
    if os.environ.get("STUB_LOG"):
        with open(os.environ["STUB_LOG"], "a") as log:
            log.write(f"{os.getpid()} {lr!r}\n")
    answers = [f"answer {i}" for i in range(int(os.environ.get("STUB_ANSWERS", "0")))]
    return SimpleNamespace(metrics=metrics, history=[metrics], predictions=answers, pruned_at=None)


def artifact_store(directory: Any) -> Any:
    store = real_artifact_store(directory)
    full = os.environ.get("STUB_DISK_FULL")
    if store is None or not full:
        return store
    write = store.write

    def write_unless_full(artifact_id: str, content_body: Any) -> None:
        if os.path.exists(full):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(artifact_id, content_body)

    store.write = write_unless_full
    return store


def no_self_check(references: Any, language: str | None = None, encoder: Any = None, seed: int = 0) -> Any:
    """Stub trials score nothing, so the metrics' self-check on the data is skipped: it loads rouge-score and
    nltk, seconds of CPU in every worker process. The real command's self-check has tests of its own
    (tests/objectives/test_selfcheck.py, tests/study/commands/test_language_run.py)."""
    return objectives._selfcheck.SelfCheck(language or "en", 0, ())


real_artifact_store = study.optimize.dashboard.artifact_store
study.optimize.dashboard.artifact_store = artifact_store
study.optimize.workers.WORKER_MODULE = "stub_worker"
objectives._selfcheck.self_check = no_self_check

if __name__ == "__main__":
    sys.exit(study.run.main(trial_fn=stub_trial))
