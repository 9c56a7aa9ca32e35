"""study.confirm's stage with stub runs: fresh seeds, seed spread, gains over the base, resuming, and export's pick."""

from __future__ import annotations

import random
import warnings
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from stubs import BASE_ROUGE, StubTrials, make_runner

from study.export import confirmation_warning
from study.optimize.confirmation import FIRST_SEED, confirm
from study.optimize.selection import pick_trials


class SeededRuns:
    """Confirmation runs whose ROUGE-L is the base's plus ``gain`` plus noise drawn from the seed."""

    def __init__(self, gain: float, noise: float = 0.02) -> None:
        self.gain, self.noise, self.calls = gain, noise, []

    def __call__(self, cfg: Any, base: bool) -> SimpleNamespace:
        self.calls.append(("base" if base else cfg.training.seed, cfg.data.max_val_examples))
        rng = random.Random(cfg.training.seed)
        shift = 0.0 if base else self.gain + rng.gauss(0, self.noise)
        rouge = [r + shift + (0.0 if base else rng.gauss(0, self.noise)) for r in BASE_ROUGE]
        return StubTrials.result(rouge, 0.0 if base else 1.0)


def study_with_trials(url: str, qa_file) -> tuple[optuna.Study, Any]:
    runner = make_runner(url, qa_file, StubTrials(gain=0.05))
    runner.run(4)
    return runner.study, runner.storage


def test_confirmation_retrains_the_best_with_fresh_seeds_and_measures_the_gain(rdb_url, qa_file):
    study, storage = study_with_trials(rdb_url, qa_file)
    runs = SeededRuns(gain=0.2)
    lines = confirm(study, storage, top=2, seeds=3, say=lambda line: None, run_fn=runs)
    assert runs.calls[0] == ("base", None)  # the base model first, on every validation question
    assert sorted(s for s, _ in runs.calls[1:]) == sorted([FIRST_SEED, FIRST_SEED + 1, FIRST_SEED + 2] * 2)
    assert all(n is None for _, n in runs.calls)
    confirmed = study.user_attrs["confirmed"]
    assert len(confirmed) == 2
    for table in confirmed.values():
        entry = table["rougeL"]
        assert entry["seeds"] == 3 and entry["sd"] > 0  # seeds differ: the noise floor is measured
        assert entry["low"] < entry["mean"] < entry["high"]
        assert entry["gain"]["significant"] and entry["gain"]["gain"] == pytest.approx(0.2, abs=0.05)
    assert "noise_floor" in study.user_attrs and study.user_attrs["noise_floor"]["rougeL"] > 0
    assert any("beats the base model" in line for line in lines)

    again = SeededRuns(gain=0.2)
    confirm(study, storage, top=2, seeds=3, say=lambda line: None, run_fn=again)
    assert again.calls == []  # resumed: every run is recorded once
    runs_study = optuna.load_study(study_name="s.confirm", storage=storage)
    assert sum(t.state == TrialState.COMPLETE for t in runs_study.trials) == 7


def test_export_prefers_confirmed_results_and_says_when_none_beats_the_base(rdb_url, qa_file):
    study, storage = study_with_trials(rdb_url, qa_file)
    assert confirmation_warning(study, "rougeL") is None  # nothing confirmed yet
    _, how = pick_trials(study, None, False, None)
    assert "not confirmed" in how
    lines = confirm(study, storage, top=2, seeds=2, say=lambda line: None, run_fn=SeededRuns(gain=0.0, noise=0.05))
    assert any("no configuration beats the base model" in line for line in lines)
    chosen, how = pick_trials(study, None, False, None)
    assert "confirmed" in how and "not confirmed" not in how
    means = {int(n): table["rougeL"]["mean"] for n, table in study.user_attrs["confirmed"].items()}
    assert chosen[0].number == max(means, key=means.get)
    warning = confirmation_warning(study, "rougeL")
    assert warning is not None and "No confirmed configuration beats the base model" in warning


def test_the_base_model_is_never_exported(rdb_url, qa_file):
    study, _ = study_with_trials(rdb_url, qa_file)
    chosen, _ = pick_trials(study, None, True, None)
    assert chosen and all(t.user_attrs.get("reference") != "base" for t in chosen)
    from study.core.errors import StudyError

    with pytest.raises(StudyError, match="untuned base model"):
        pick_trials(study, 0, False, None)


def test_a_confirmed_loss_is_called_worse_not_merely_not_better(rdb_url, qa_file):
    study, storage = study_with_trials(rdb_url, qa_file)
    lines = confirm(study, storage, top=1, seeds=2, say=lambda line: None, run_fn=SeededRuns(gain=-0.2))
    assert any("worse than the untuned base model" in line for line in lines)
    assert "even the best is worse than the untuned base model" in confirmation_warning(study, "rougeL")


def test_the_export_table_keeps_its_columns_apart():
    from study.export import comparison_lines

    comparison = {
        "rougeL": {"base": 0.1292, "tuned": 0.1415, "gain": 0.01234, "gain_ci95": [-0.004338, 0.02966],
                   "p_value": 0.166, "questions": 38, "base_default_decoding": 0.1108},
        "bertscore_f1": {"base": 0.4264, "tuned": 0.4318, "gain": 0.005456, "gain_ci95": [-0.01564, 0.02508],
                         "p_value": 0.361, "questions": 38, "base_default_decoding": 0.419},
    }
    header, *rows = comparison_lines(comparison)[:3]
    assert rows[1].split() == ["bertscore_f1", "0.4264", "0.4318", "+0.0055", "[-0.0156,", "+0.0251]", "0.361", "0.4190"]
    assert {len(r) for r in rows} == {len(rows[0])}  # the columns line up
    assert rows[0].index("+0.0123") + len("+0.0123") == header.index("gain") + len("gain")


def test_a_knowledge_study_is_confirmed_with_its_gain_over_the_confirmation_base_run(rdb_url):
    # knowledge_gain is not a score of the run alone: it is the run's seen-probe ROUGE-L minus the base run's.
    # Without it every run of a study whose objective it is ended FAIL (a NaN objective).
    from search_spaces import load_space
    from study.optimize.records import record_config
    from study.optimize.storage import open_storage

    storage = open_storage(rdb_url, heartbeat_seconds=None)  # trials added by hand, not by a running study
    study = optuna.create_study(study_name="k", storage=storage, directions=["maximize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(["knowledge_gain"])
    space = load_space("smoke")
    cfg = space.config({n: d.values[0] if hasattr(d, "values") else d.low for n, d in space.dimensions.items()})
    for value, attrs in ((0.0, {"reference": "base"}), (0.1, {})):
        trial = study.ask()
        record_config(trial, cfg)
        for key, v in attrs.items():
            trial.set_user_attr(key, v)
        study.tell(trial, value)

    def runs(cfg: Any, base: bool) -> SimpleNamespace:
        rng = random.Random(cfg.training.seed)
        probes = [0.2 + (0.0 if base else 0.1 + rng.gauss(0, 0.01)) for _ in range(6)]
        return SimpleNamespace(metrics={"rougeL": 0.3}, per_question={"probe_seen_rougeL": probes, "rougeL": [0.3] * 6})

    confirm(study, storage, top=1, seeds=3, say=lambda line: None, run_fn=runs)
    confirm_runs = optuna.load_study(study_name="k.confirm", storage=storage).trials
    assert [t.state for t in confirm_runs] == [TrialState.COMPLETE] * 4
    assert confirm_runs[0].values == [0.0]  # the base run: no gain over itself
    entry = study.user_attrs["confirmed"]["1"]["knowledge_gain"]
    assert entry["seeds"] == 3 and entry["mean"] == pytest.approx(0.1, abs=0.02)


def test_ctrl_c_ends_the_running_confirmation_run_and_the_next_confirm_redoes_it(rdb_url, qa_file):
    study, storage = study_with_trials(rdb_url, qa_file)
    runs = SeededRuns(gain=0.2)

    def interrupted(cfg: Any, base: bool) -> SimpleNamespace:
        if not base:
            raise KeyboardInterrupt
        return runs(cfg, base)

    with pytest.raises(KeyboardInterrupt):
        confirm(study, storage, top=1, seeds=2, say=lambda line: None, run_fn=interrupted)
    first = optuna.load_study(study_name="s.confirm", storage=storage).trials
    assert [(t.state, t.user_attrs.get("fail_reason")) for t in first] == [
        (TrialState.COMPLETE, None), (TrialState.FAIL, "interrupted (Ctrl-C)")]  # not left RUNNING
    again = SeededRuns(gain=0.2)
    confirm(study, storage, top=1, seeds=2, say=lambda line: None, run_fn=again)
    assert sorted(s for s, _ in again.calls) == [FIRST_SEED, FIRST_SEED + 1]  # the interrupted run, then the other


def test_a_run_whose_study_confirm_was_killed_is_failed_and_run_again(rdb_url, qa_file):
    from clock import age_running_trials
    from study.optimize import claims
    from study.optimize.confirmation import Run, confirmation_study, top_trials
    from study.optimize.storage import open_storage

    study, _ = study_with_trials(rdb_url, qa_file)
    storage = open_storage(rdb_url, heartbeat_seconds=1)  # stale after 2 s without a heartbeat
    confirm_study = confirmation_study(study, storage)
    number = top_trials(study, 1, None)[0].number
    assert claims.claim(confirm_study, Run(number, FIRST_SEED).attrs) is not None  # then the process is SIGKILLed
    age_running_trials(storage, 2.5)  # past the grace period, without the wait
    runs = SeededRuns(gain=0.2)
    confirm(study, storage, top=1, seeds=1, say=lambda line: None, run_fn=runs)
    assert sorted(str(s) for s, _ in runs.calls) == sorted(["base", str(FIRST_SEED)])  # run again, not skipped
    states = [(t.user_attrs.get("confirms"), t.state) for t in optuna.load_study(study_name="s.confirm",
                                                                                storage=storage).trials]
    assert (number, TrialState.FAIL) in states and (number, TrialState.COMPLETE) in states
    assert not any(t.state == TrialState.WAITING for t in confirm_study.get_trials())  # claimed, not queued again
