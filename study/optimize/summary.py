"""What a study holds after a run, in the few lines ``study.run`` ends with."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState

from study.optimize import reference
from study.optimize.storage import redact


def summary(study: optuna.Study, study_name: str, seconds: float, storage_url: str,
            artifact_dir: Path | None = None) -> str:
    """What the study holds now, the Pareto front, and the commands to look at it."""
    trials = study.get_trials(deepcopy=False)
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)
    counts = {s.name: sum(t.state == s for t in trials) for s in states}
    counts = {k: n for k, n in counts.items() if n or k in ("COMPLETE", "PRUNED", "FAIL")}
    front = study.best_trials if counts["COMPLETE"] else []
    shown = redact(storage_url)
    lines = [
        f"study '{study_name}': {len(trials)} trials "
        f"({', '.join(f'{n} {k.lower()}' for k, n in counts.items())}) in {seconds:.0f} s this run",
        f"Pareto front: trials {', '.join(str(t.number) + (' (base model)' if reference.is_base(t) else '') for t in front) or '-'}",
        (f"dashboard:  optuna-dashboard{f' --artifact-dir {artifact_dir}' if artifact_dir else ''} {shown}"
         if storage_url.startswith("sqlite") else f"storage: {shown}"),
        f"best config: python -m study.export --study-name {study_name}"
        + ("" if storage_url.endswith(f"/{study_name}.db") else f" --storage {shown}"),
    ]
    return "\n".join(lines)
