from __future__ import annotations

import optuna

from reports import build_figures, study_data
from reports._figures import intermediate_figure, parallel_figure, pareto_figure


def test_build_figures_gives_the_study_figures_then_the_analyses_in_order(study: optuna.Study) -> None:
    keys = [b.key for b in build_figures(study_data(study))]
    assert keys == ["pareto", "history", "importance", "parallel", "intermediate",
                    "correlation", "test", "forgetting", "pretraining", "length", "human"]


def test_pareto_figure_marks_the_front_for_two_objectives(study_2d: optuna.Study) -> None:
    fig = pareto_figure(study_data(study_2d)).figure
    traces = {t.name: t for t in fig.data}
    assert {t.type for t in fig.data} == {"scatter"}
    front = sorted(zip(traces["Pareto front"].x, traces["Pareto front"].y))
    assert front == sorted(tuple(t.values) for t in study_2d.best_trials)
    assert list(zip(traces["dominated"].x, traces["dominated"].y)) == [(0.20, 0.50)]


def test_pareto_figure_is_a_scatter_matrix_for_three_objectives(study: optuna.Study) -> None:
    fig = pareto_figure(study_data(study)).figure
    assert {t.type for t in fig.data} == {"splom"}
    front = next(t for t in fig.data if t.name == "Pareto front")
    assert [d.label for d in front.dimensions] == ["rougeL (max)", "bertscore_f1 (max)", "train_seconds (min)"]
    assert len(front.dimensions[0].values) == 3


def test_intermediate_figure_dashes_the_pruned_trial(study: optuna.Study) -> None:
    fig = intermediate_figure(study_data(study)).figure
    pruned = [t for t in fig.data if t.name == "PRUNED"]
    complete = [t for t in fig.data if t.name == "COMPLETE"]
    assert len(pruned) == 1 and len(complete) == 4
    assert pruned[0].line.dash == "dash" and tuple(pruned[0].y) == (3.5, 3.6)
    assert {t.line.dash for t in complete} == {"solid"}
    assert fig.layout.yaxis.title.text == "eval_loss"


def test_importance_block_is_a_note_when_too_few_trials(study: optuna.Study) -> None:
    block = next(b for b in build_figures(study_data(study)) if b.key == "importance")
    assert block.figure is None
    assert "at least" in (block.note or "")


def test_parallel_figure_labels_categorical_choices_and_log_axes(study: optuna.Study) -> None:
    fig = parallel_figure(study_data(study)).figure
    dims = {d.label: d for d in fig.data[0].dimensions}
    assert list(dims["lora.rank"].ticktext) == ["4", "8", "16"]
    assert "log10 training.learning_rate" in dims
    assert len(dims["rougeL (max)"].values) == 4  # complete trials only


def test_figures_without_complete_trials_are_notes_not_errors() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    blocks = build_figures(study_data(study))
    assert all(b.figure is None and b.note for b in blocks)


def test_importance_figure_has_one_bar_chart_per_objective() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=30)
    block = next(b for b in build_figures(study_data(study)) if b.key == "importance")
    assert block.note is None
    bars = [t for t in block.figure.data if t.type == "bar"]
    assert len(bars) == 2 and all(set(b.y) == {"x", "y"} for b in bars)
