from __future__ import annotations

import optuna

from reports import study_data
from reports._history import running_best


def test_running_best_follows_the_direction() -> None:
    assert running_best([2.0, 1.0, 3.0], "maximize") == (2.0, 2.0, 3.0)
    assert running_best([2.0, 1.0, 3.0], "minimize") == (2.0, 1.0, 1.0)


def test_histories_use_complete_trials_only(study: optuna.Study) -> None:
    history = study_data(study).histories[2]
    assert history.numbers == (0, 1, 2, 3)
    assert history.best == (20.0, 20.0, 10.0, 10.0)  # train_seconds is minimised
