"""``python -m study.run`` with stub trials: the storage, the loop and the workers are what is tested.

    PYTHONPATH=tests/study python -m stub_worker --space smoke --model DIR --data qa.jsonl --storage URL ...

Everything but the fine-tune is the real command (flags, storage, heartbeats, --workers,
which start ``python -m stub_worker`` again). The environment says what a trial does:
``STUB_TRIAL`` is ``ok`` (default: returns at once), ``sleep:SECONDS``, ``hang`` (until
interrupted or killed) or ``fail`` (raises); with ``STUB_LOG=path`` each finished trial
appends ``pid learning_rate`` to that file, so that a test can count how often each
configuration ran.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace
from typing import Any

import study.optimize.loop
import study.optimize.workers
import study.run


def stub_trial(cfg: Any, monitor: Any) -> SimpleNamespace:
    mode = os.environ.get("STUB_TRIAL", "ok")
    if mode.startswith("sleep:"):
        time.sleep(float(mode.partition(":")[2]))
    elif mode == "hang":
        while True:
            time.sleep(0.05)
    elif mode == "fail":
        raise RuntimeError("stub trial failed")
    lr = cfg.training.learning_rate
    metrics = {"rougeL": lr, "bertscore_f1": 1.0 - lr, "train_seconds": 1.0, "eval_loss": 1.0 / lr}
    if os.environ.get("STUB_LOG"):
        with open(os.environ["STUB_LOG"], "a") as log:
            log.write(f"{os.getpid()} {lr!r}\n")
    return SimpleNamespace(metrics=metrics, history=[metrics], predictions=[], pruned_at=None)


study.optimize.loop.StudyRunner._load_trial_fn = lambda self: stub_trial
study.optimize.workers.WORKER_MODULE = "stub_worker"

if __name__ == "__main__":
    sys.exit(study.run.main())
