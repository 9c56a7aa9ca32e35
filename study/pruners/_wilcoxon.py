"""``wilcoxon``: a step is a question; stop a trial whose per-question scores so far are significantly worse
than the best trial's on the same questions (paired Wilcoxon signed-rank test).

The trial scores the validation questions in ``study.eval_chunks`` chunks and reports each
question's score, so a trial can stop after a chunk instead of at an epoch's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import QUESTION, PrunerEntry, Setting

P_THRESHOLD = Setting("p_threshold", float, 0.1, "stop when the test's p-value is below this", min=0.0, max=1.0)
STARTUP = Setting("n_startup_steps", int, 4, "questions scored before it may stop a trial", min=0)


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import WilcoxonPruner

    return WilcoxonPruner(**values)


WILCOXON = PrunerEntry(
    "wilcoxon", "per question: stop a trial significantly worse than the best one on the questions so far",
    _build, unit=QUESTION, settings=(P_THRESHOLD, STARTUP),
)
