"""Parameter importances: how much each searched parameter sets the good trials apart, per objective.

PED-ANOVA (Optuna's :class:`~optuna.importance.PedAnovaImportanceEvaluator`) on the best
:data:`TOP_QUANTILE` of the complete trials; too few trials give a note instead of noise.
The base model is left out: it has no parameters, and would empty the shared search space.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple, Sequence

import optuna
import plotly.graph_objects as go
from optuna.trial import TrialState
from plotly.subplots import make_subplots

from reports._block import HEIGHT, TRIAL_COLOR, FigureBlock
from reports._rows import ObjectiveInfo, is_base_trial

KEY, TITLE = "importance", "Parameter importances"
#: Share of trials PED-ANOVA treats as "good" when it scores a parameter's importance.
TOP_QUANTILE = 0.1
#: Fewer complete trials than this give importances that are noise: the top 10 % must hold two.
MIN_TRIALS_FOR_IMPORTANCE = math.ceil(2 / TOP_QUANTILE)


class Importance(NamedTuple):
    """Parameter importances for one objective (largest first), or why there are none."""

    objective: ObjectiveInfo
    importances: dict[str, float]  # normalised to sum to 1
    note: str | None


def param_importances(study: optuna.Study, objectives: Sequence[ObjectiveInfo]) -> tuple[Importance, ...]:
    """PED-ANOVA importances per objective, or a note saying why they cannot be trusted.

    PED-ANOVA looks for the parameters that set the *lowest* target values apart, so a
    maximised objective is negated.
    """
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if any(is_base_trial(t) for t in done):
        done = [t for t in done if not is_base_trial(t)]
        study = _tuned_study(study, done)
    searched = {name for t in done for name in t.distributions}
    if len(done) < MIN_TRIALS_FOR_IMPORTANCE:
        note = (f"needs at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials "
                f"(the best {TOP_QUANTILE:.0%} must hold two); the study has {len(done)}")
        return tuple(Importance(o, {}, note) for o in objectives)
    if not searched:
        return tuple(Importance(o, {}, "no searched parameters") for o in objectives)
    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=TOP_QUANTILE)
    out = []
    for i, objective in enumerate(objectives):
        sign = -1.0 if objective.direction == "maximize" else 1.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importances = optuna.importance.get_param_importances(
                study, evaluator=evaluator, target=lambda t, i=i, sign=sign: sign * t.values[i]
            )
        # Optuna warns (and returns equal shares) when the trials cannot separate parameters;
        # the lower-is-better reminder is handled by the sign above.
        equal = [str(w.message) for w in caught if "will be equal" in str(w.message)]
        out.append(Importance(objective, {} if equal else importances, equal[0] if equal else None))
    return tuple(out)


def _tuned_study(study: optuna.Study, trials: Sequence[optuna.trial.FrozenTrial]) -> optuna.Study:
    """An in-memory copy of ``study`` holding only ``trials`` (the fine-tuned ones)."""
    copy = optuna.create_study(storage=optuna.storages.InMemoryStorage(), directions=study.directions)
    copy.add_trials(trials)
    return copy


def figure(importances: Sequence[Importance]) -> FigureBlock:
    """One horizontal bar chart per objective that has importances, largest on top."""
    shown = [imp for imp in importances if imp.importances]
    notes = sorted({f"{imp.objective.metric}: {imp.note}" for imp in importances if imp.note})
    note = "; ".join(notes) if notes else None
    if not shown:
        # The same reason for every objective reads better once.
        reasons = {imp.note for imp in importances if imp.note}
        return FigureBlock(KEY, TITLE, None, reasons.pop() if len(reasons) == 1 else note)
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=[str(imp.objective) for imp in shown])
    for col, imp in enumerate(shown, start=1):
        names = list(imp.importances)[::-1]  # largest on top
        fig.add_trace(go.Bar(x=[imp.importances[n] for n in names], y=names, orientation="h",
                             marker={"color": TRIAL_COLOR}, showlegend=False,
                             hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title_text="importance", range=[0, 1], row=1, col=col)
    fig.update_layout(height=HEIGHT, title=TITLE)
    return FigureBlock(KEY, TITLE, fig, note)
