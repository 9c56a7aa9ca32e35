"""One fine-tune, start to end: data and splits, the base model and its adapters, the forward-pass
maths, training with TRL, evaluation, forgetting and the judge, and the trial recipe that runs them.

Knows nothing of Optuna: a trial gets a :class:`~study.core.config.TrialConfig` and an optional
monitor, and returns its metrics.
"""
