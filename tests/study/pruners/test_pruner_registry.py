"""The pruner registry: every pruner builds from a space with its settings, bad settings stop with one line
naming the key, ``--pruner`` and ``--explain pruner`` list the registry, and a wrapped pruner runs a study."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
import yaml
from optuna.trial import TrialState
from stubs import make_runner

from search_spaces import parse_space
from study import pruners
from study.core.errors import StudyError
from study.core.pruner_spec import PrunerSpec
from study.finetune.evaluation import Evaluation
from study.run import main, parse_args

# Every setting of every pruner at a value other than its default, and the Optuna class it builds.
GIVEN: dict[str, tuple[dict[str, Any], type]] = {
    "none": ({}, optuna.pruners.NopPruner),
    "median": ({"n_startup_trials": 2, "n_warmup_steps": 1, "interval_steps": 2, "n_min_trials": 3},
               optuna.pruners.MedianPruner),
    "percentile": ({"percentile": 40.0, "n_startup_trials": 2, "n_warmup_steps": 1, "interval_steps": 2,
                    "n_min_trials": 3}, optuna.pruners.PercentilePruner),
    "successive_halving": ({"min_resource": 2, "reduction_factor": 3, "min_early_stopping_rate": 1},
                           optuna.pruners.SuccessiveHalvingPruner),
    "hyperband": ({"min_resource": 2, "reduction_factor": 3}, optuna.pruners.HyperbandPruner),
    "wilcoxon": ({"p_threshold": 0.05, "n_startup_steps": 6}, optuna.pruners.WilcoxonPruner),
    "patient": ({"patience": 3, "min_delta": 0.01}, optuna.pruners.PatientPruner),
}


def space_with(pruner: Any) -> Any:
    return parse_space({"study": {"pruner": pruner}}, "space.yaml")


def test_every_pruner_of_the_registry_is_tested_here():
    assert set(GIVEN) == set(pruners.names())


@pytest.mark.parametrize("name", list(GIVEN))
def test_each_pruner_builds_from_a_space_with_its_settings(name):
    settings, cls = GIVEN[name]
    space = space_with({"name": name, **settings})
    built = pruners.choose(space.settings.pruner).build()
    assert type(built) is cls
    for key, value in settings.items():  # each value reached Optuna's pruner
        assert getattr(built, f"_{key}") == value
    assert type(space_with(name).settings.pruner) is PrunerSpec  # the name alone: its defaults
    assert type(pruners.build(space_with(name).settings.pruner)) is cls


def test_the_defaults_are_those_the_study_always_used():
    median = pruners.build("median")
    assert (median._n_startup_trials, median._n_warmup_steps) == (4, 0)
    wilcoxon = pruners.build("wilcoxon")
    assert (wilcoxon._p_threshold, wilcoxon._n_startup_steps) == (0.1, 4)
    for name in ("successive_halving", "hyperband"):
        built = pruners.build(name)
        assert (built._min_resource, built._reduction_factor) == (1, 2)


def test_unknown_names_are_refused():
    assert isinstance(pruners.build("none"), optuna.pruners.NopPruner)
    with pytest.raises(StudyError, match="unknown pruner 'sometimes'"):
        pruners.build("sometimes")


def test_patient_wraps_the_pruner_it_names_and_takes_its_step():
    chosen = pruners.choose(PrunerSpec.parse({"name": "patient", "wrapped_pruner": {"name": "median",
                                                                                   "n_startup_trials": 1}}))
    built = chosen.build()
    assert type(built._wrapped_pruner) is optuna.pruners.MedianPruner
    assert built._wrapped_pruner._n_startup_trials == 1
    assert chosen.unit == pruners.EPOCH
    assert pruners.build("patient")._wrapped_pruner is None  # patience alone: early stopping
    assert pruners.choose(PrunerSpec.parse({"name": "patient", "wrapped_pruner": "wilcoxon"})).per_question
    assert pruners.choose("wilcoxon").unit == pruners.QUESTION


def test_the_step_of_a_stored_study():
    assert pruners.stored_unit({"pruner": "wilcoxon"}) == pruners.QUESTION  # stored before the unit was
    assert pruners.stored_unit({"pruner": "median"}) == pruners.EPOCH
    assert pruners.stored_unit({"pruner": "patient", "pruning_step": "question"}) == pruners.QUESTION
    assert pruners.stored_unit({}) == pruners.EPOCH


@pytest.mark.parametrize(
    "pruner, expected",
    [
        ("sometimes", "'study.pruner' got 'sometimes'; valid: none, median"),
        ({"name": "median", "n_startup_trials": -1}, "'study.pruner.n_startup_trials' must be >= 0, got -1"),
        ({"name": "median", "n_startup": 3}, "unknown setting 'study.pruner.n_startup' of the median pruner"),
        ({"name": "percentile", "percentile": 150}, "'study.pruner.percentile' must be <= 100, got 150"),
        ({"name": "wilcoxon", "p_threshold": "low"}, "'study.pruner.p_threshold' expected float, got 'low'"),
        ({"name": "patient", "wrapped_pruner": {"name": "median", "interval_steps": 0}},
         "'study.pruner.wrapped_pruner.interval_steps' must be >= 1, got 0"),
        ({"name": "patient", "wrapped_pruner": "sometimes"}, "'study.pruner.wrapped_pruner' got 'sometimes'"),
        ({"n_startup_trials": 3}, "'study.pruner' expected a mapping with a pruner 'name'"),
    ],
)
def test_bad_pruner_settings_stop_the_run_with_one_line_naming_the_key(tmp_path, capsys, pruner, expected):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"study": {"pruner": pruner}}))
    db = tmp_path / "new" / "s.db"
    code = main(["--space", str(space), "--storage", f"sqlite:///{db}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and expected in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["space.yaml"]  # no storage, no directory


@pytest.mark.parametrize("pruner", ["wilcoxon", {"name": "patient", "wrapped_pruner": "wilcoxon"}])
def test_a_per_question_pruner_on_a_metric_without_per_question_scores_stops_before_anything(tmp_path, capsys,
                                                                                             pruner):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"study": {"pruner": pruner, "pruning_metric": "eval_loss"}}))
    db = tmp_path / "s.db"
    code = main(["--space", str(space), "--storage", f"sqlite:///{db}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "pruning metric must be scored per question, not 'eval_loss' (use rouge1, rouge2, rougeL" in err[0]
    assert not db.exists()


def test_the_pruner_flag_keeps_the_settings_the_space_gave_the_same_pruner(tmp_path):
    from study.run import _settings

    space = space_with({"name": "median", "n_startup_trials": 8})
    same = _settings(space, parse_args(["--pruner", "median"]))
    assert same.pruner == PrunerSpec("median", (("n_startup_trials", 8),))
    other = _settings(space, parse_args(["--pruner", "hyperband"]))
    assert other.pruner == PrunerSpec("hyperband")


def test_pruner_help_and_explain_list_the_registry(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert all(name in shown for name in pruners.names())
    assert main(["--explain", "pruner"]) == 0
    explained = capsys.readouterr().out
    for entry in pruners.PRUNERS.values():
        assert f"  {entry.name}: " in explained
        assert all(f"    {s.name} " in explained for s in entry.settings)


def _result(loss: float, pruned_at: float | None) -> SimpleNamespace:
    metrics = {"rougeL": 0.3, "bertscore_f1": 0.5, "train_seconds": 1.0, "eval_loss": loss}
    return SimpleNamespace(metrics=metrics, history=[metrics], predictions=[], pruned_at=pruned_at)


class ImprovingOrStalling:
    """Odd trials' eval_loss falls at every check; even trials' rises again after the second check."""

    CHECKS = 5

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, cfg: Any, monitor: Any) -> SimpleNamespace:
        self.calls += 1
        stalls = self.calls % 2 == 0
        loss = 0.0
        for check in range(1, self.CHECKS + 1):
            loss = 0.8 + 0.05 * (check - 2) if stalls and check > 2 else 1.0 - 0.1 * check
            if monitor.after_check(check, Evaluation({"eval_loss": loss}, [])):
                return _result(loss, pruned_at=check)
        return _result(loss, pruned_at=None)


def test_a_study_with_the_patient_pruner_stops_the_trials_that_stall(tmp_path, qa_file):
    runner = make_runner(f"sqlite:///{tmp_path / 's.db'}", qa_file, ImprovingOrStalling())
    spec = PrunerSpec.parse({"name": "patient", "patience": 1})
    runner.settings = dataclasses.replace(runner.settings, pruner=spec, pruning_metric="eval_loss")
    runner.run(4)
    trials = runner.study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 2
    # at check 4 its best of checks 3 and 4 is worse than its best before: no progress for more than 1 step
    assert [t.user_attrs.get("pruned_at") for t in trials] == [None, 4, None, 4]
    attrs = runner.study.user_attrs
    assert (attrs["pruner"], attrs["pruner_settings"], attrs["pruning_step"]) == ("patient", {"patience": 1}, "epoch")
    pruning = optuna.load_study(study_name="s.pruning", storage=runner.storage)
    assert [t.state for t in pruning.trials] == [t.state for t in trials]
