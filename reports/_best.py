"""The best trials: a table of the Pareto-optimal trials, then their sample answers beside the references.

Each objective value carries its 95 % interval where the trial stored one. The untuned base
model is not ranked (it is not a result of the search) but heads the table as the reference.
No figure: the section comes after the figures, as plain HTML.
"""

from __future__ import annotations

from html import escape

import optuna
from optuna.trial import FrozenTrial

from reports._cells import fmt, num, row, with_interval
from reports._pareto import pareto_trials
from reports._rows import BestTrial, Sample, StudyRows, TrialRow, base_row, trial_row
from study.core import keys

KEY, TITLE = "best", "Best trials (Pareto front)"


def samples_of(trial: FrozenTrial) -> tuple[Sample, ...]:
    return tuple(
        Sample(str(s.get("question", "")), str(s.get("reference", "")), str(s.get("answer", "")))
        for s in trial.user_attrs.get(keys.SAMPLES) or ()
    )


def best_trials(study: optuna.Study) -> tuple[BestTrial, ...]:
    """The Pareto trials, best first by the first objective, with their sample answers."""
    return tuple(BestTrial(trial_row(t), samples_of(t)) for t in pareto_trials(study))


def table(data: StudyRows) -> str:
    """The Pareto trials: objectives, parameters, other metrics, then sample answers."""
    parts = [f'<h2 id="{KEY}">{escape(TITLE)}</h2>']
    if not data.best:
        parts.append('<p class="note">no COMPLETE trials yet</p>')
        return "\n".join(parts)
    params = sorted({p for b in data.best for p in b.row.params})
    objective_names = [o.metric for o in data.objectives]
    metrics = sorted({m for b in data.best for m in b.row.metrics} - set(objective_names))
    head = ["trial", *(str(o) for o in data.objectives), *params, *metrics, "trial seconds"]
    rows = [row((escape(h) for h in head), header=True)]
    base = base_row(data.trials)
    for r in ([base] if base else []) + [b.row for b in data.best]:
        label = f"{r.number} (base model, untuned)" if r.is_base else str(r.number)
        rows.append(row([label, *(_value(r, i, o) for i, o in enumerate(objective_names)),
                         *(fmt(r.params.get(p)) for p in params),
                         *(num(r.metrics.get(m)) for m in metrics),
                         num(r.duration_s)]))
    parts.append("<table>" + "".join(rows) + "</table>")
    parts.extend(_samples(b) for b in data.best)
    return "\n".join(parts)


def _value(r: TrialRow, i: int, metric: str) -> str:
    """An objective value, with its 95 % interval below it where the trial has one."""
    return with_interval(r.values[i] if r.values else None, r.intervals.get(metric))


def _samples(best: BestTrial) -> str:
    """Sample answers of one trial beside the references, in a collapsible block."""
    summary = f"trial {best.row.number}: {len(best.samples)} sample answers"
    if not best.samples:
        return f"<p>{escape(summary)}</p>"
    rows = [row(["question", "reference", "answer"], header=True)]
    rows += [row([escape(s.question), escape(s.reference), escape(s.answer)]) for s in best.samples]
    return (f"<details><summary>{escape(summary)}</summary>"
            f"<table class=\"samples\">{''.join(rows)}</table></details>")
