"""How a study searches and when it stops: the ``study:`` section of a space; flags of ``study.run`` override it."""

from __future__ import annotations

from dataclasses import dataclass

from study.core.fields import setting
from study.core.pruner_spec import PrunerSpec

SAMPLERS = ("tpe", "nsga2", "gp", "random", "grid")
STOP_RULES = ("patience", "terminator")  # study.optimize.stopping
STOP_JUDGES = ("first", "front")
DEFAULT_OBJECTIVES = ("rougeL:max", "bertscore_f1:max", "train_seconds:min")


@dataclass(frozen=True)
class StudySettings:
    """How the study searches: objectives, sampler, pruner. The ``study:`` section of a space; CLI flags override it."""

    objectives: tuple[str, ...] = setting(DEFAULT_OBJECTIVES, "metric:direction pairs, e.g. rougeL:max,train_seconds:min")
    sampler: str = setting("tpe", "Optuna sampler", choices=SAMPLERS)
    pruner: PrunerSpec = setting(
        PrunerSpec("median"), "stop weak trials early: a name or {name: NAME, SETTING: VALUE} "
        "(python -m study.run --explain pruner lists them)", parse=PrunerSpec.parse, kind="pruner")
    pruning_metric: str = setting("rougeL", "validation metric the pruner watches (its direction comes from the metric)")
    checks_per_epoch: int = setting(
        1, "times an epoch the pruner sees the pruning metric (eval_loss is cheap; other metrics generate answers)",
        min=1, max=20,
    )
    n_trials: int = setting(50, "trials this command runs (a resumed study adds this many)", min=1)
    eval_chunks: int = setting(4, "a per-question pruner (wilcoxon): score the validation questions in this many chunks",
                          min=1)
    check_questions: int = setting(
        0, "checks before the last that generate answers (a pruning metric other than eval_loss) answer only the "
           "first N validation questions; 0 = all", min=0)
    check_max_new_tokens: int = setting(
        0, "those checks' answers are at most this many tokens (0 = the decoding's max_new_tokens)", min=0)
    sample_answers: int = setting(5, "answers stored on each trial beside their references", min=0)
    confirm_top: int = setting(
        0, "after the trials, re-train this many best Pareto trials with fresh seeds (study.confirm); 0 = off", min=0
    )
    confirm_seeds: int = setting(3, "fresh training seeds per confirmed trial", min=1, max=20)
    stop: StopSettings | None = setting(
        None, "stop the study when further trials are unlikely to beat its best by more than the noise, "
              "e.g. {rule: patience, min_trials: 15} (python -m study.run --explain study.stop); none = run every trial")


@dataclass(frozen=True)
class StopSettings:
    """When a study stops on its own (``study.stop``; study.optimize.stopping); ``--no-stop`` turns it off."""

    rule: str = setting("patience", "'patience': no trial in the last K beat the best by more than the noise (paired "
                               "interval); 'terminator': Optuna's regret bound below the best's standard error",
                   choices=STOP_RULES)
    min_trials: int = setting(15, "finished trials before the rule may stop the study", min=2)
    patience: int = setting(15, "patience rule: finished trials in a row that did not beat the best by more than the noise",
                            min=1)
    judge: str = setting(
        "first", "what the rule judges: 'first', the first objective; 'front' (patience only), the Pareto front of "
                 "every objective with per-question scores: a trial improves it when, against each earlier "
                 "improvement, it is better by more than the noise on at least one of them", choices=STOP_JUDGES)
    count_pruned: bool = setting(
        True, "patience rule: a pruned trial counts toward patience (false: only trials that finished with a value; "
              "a pruned trial costs a fraction of one)")
