"""study.export's lines on memorisation: the configuration's membership_auc beside the base model's, in words."""

from __future__ import annotations

import numpy as np
import optuna

from objectives import membership_rows, stats_key
from study.optimize.memorisation import memorisation_lines
from study.optimize.records import record_scores


def scored_trial(study, member_losses, held_out_losses, exposure=None):
    trial = study.ask()
    per_question = {stats_key("membership_auc"): membership_rows([(-x * 10, 10) for x in member_losses],
                                                                 [(-x * 10, 10) for x in held_out_losses])}
    if exposure is not None:
        per_question["exposure"] = exposure
    record_scores(trial, per_question, None, [])
    study.tell(trial, 0.0)
    return study.trials[-1]


def test_a_configuration_that_tells_its_training_pairs_apart_is_warned_about():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    rng = np.random.default_rng(0)
    base = scored_trial(study, rng.normal(2, 0.3, 32), rng.normal(2, 0.3, 32))
    leaky = scored_trial(study, rng.normal(1, 0.3, 32), rng.normal(2, 0.3, 32))
    lines = memorisation_lines(leaky, base)
    assert lines[0].startswith("membership_auc 0.989 [0.9") and "; base model 0." in lines[0] and "; difference +0." in lines[0]
    assert lines[1].startswith("warning: this configuration's membership_auc interval lies above the base model's")
    assert lines[2].startswith("exposure: not measured (no canaries")
    quiet = scored_trial(study, rng.normal(2, 0.3, 32), rng.normal(2, 0.3, 32))
    assert not any(line.startswith("warning") for line in memorisation_lines(quiet, base))
    assert memorisation_lines(leaky, None)[0].startswith("membership_auc 0.989 [0.9") and len(memorisation_lines(leaky, None)) == 2


def test_exposure_is_shown_with_its_interval_over_canaries():
    study = optuna.create_study()
    trial = scored_trial(study, [1.0, 2.0], [2.0, 3.0], exposure=[20.0, 22.0, 24.0])
    assert memorisation_lines(trial, None)[1].startswith("exposure 22.000 [20.")
