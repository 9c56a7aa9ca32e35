"""Stub trials with known per-question scores, and a study runner that uses them (no model is loaded).

Importable from the tests of this folder (``tests/study`` is put on ``sys.path`` by its conftest).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from types import SimpleNamespace
from typing import Any

from objectives import parse_objectives
from search_spaces import load_space
from study.core.config import DataConfig
from study.finetune.data import load_splits
from study.optimize.loop import StudyRunner
from study.optimize.samplers import make_sampler
from study.optimize.storage import open_storage

QUESTIONS = 12
BASE_ROUGE = [0.1 + 0.01 * i for i in range(QUESTIONS)]


class StubTrials:
    """Fine-tunes that score the base's ROUGE-L plus ``gain`` on every question; counts base scorings."""

    def __init__(self, gain: float = 0.2, base_seconds: float = 0.0) -> None:
        self.gain, self.base_seconds, self.base_calls = gain, base_seconds, 0
        self.lock = threading.Lock()

    @staticmethod
    def result(rouge: list[float], train_seconds: float) -> SimpleNamespace:
        metrics = {"rougeL": sum(rouge) / len(rouge), "bertscore_f1": 0.5, "train_seconds": train_seconds,
                   "eval_loss": 1.0}
        per_question = {"rougeL": rouge, "bertscore_f1": [0.5] * len(rouge)}
        return SimpleNamespace(metrics=metrics, history=[metrics], predictions=[], pruned_at=None, per_question=per_question)

    def __call__(self, cfg: Any, monitor: Any) -> SimpleNamespace:
        return self.result([r + self.gain for r in BASE_ROUGE], 1.0 + cfg.training.learning_rate)

    def score_base(self, cfg: Any) -> SimpleNamespace:
        with self.lock:
            self.base_calls += 1
        time.sleep(self.base_seconds)
        return self.result(list(BASE_ROUGE), 0.0)


#: a study runner whose trials are stubs: StudyRunner(..., trial_fn=StubTrials())
StubRunner = StudyRunner


def make_runner(url: str, qa_file, trials: StubTrials, sampler: str = "random", heartbeat: int | None = 60,
                seed: int = 0) -> StubRunner:
    space = load_space("smoke")
    if sampler == "grid":  # a grid needs choices: 3 ranks x 2 module sets
        space = space.with_fixed(**{"training.learning_rate": 1e-3, "training.epochs": 1})
    grid = space.grid() if sampler == "grid" else None
    cfg = space.config({n: d.values[0] if hasattr(d, "values") else d.low for n, d in space.dimensions.items()})
    return StubRunner(space=space, settings=space.settings, objectives=parse_objectives(space.settings.objectives),
                      storage=open_storage(url, heartbeat_seconds=heartbeat), study_name="s",
                      sampler=make_sampler(sampler, seed, grid), splits=load_splits(DataConfig(path=str(qa_file))),
                      base_cfg=cfg, show_progress=False, trial_fn=trials)


