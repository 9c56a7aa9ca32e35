from __future__ import annotations

import optuna

from reports import study_data
from reports._parallel import figure as parallel_figure


def test_param_axes_describe_categorical_and_log_parameters(study: optuna.Study) -> None:
    axes = {a.name: a for a in study_data(study).axes}
    assert axes["lora.rank"].choices == (4, 8, 16)
    assert axes["training.learning_rate"].log and axes["training.learning_rate"].choices is None
    assert not axes["training.epochs"].log


def test_parallel_figure_labels_categorical_choices_and_log_axes(study: optuna.Study) -> None:
    fig = parallel_figure(study_data(study)).figure
    dims = {d.label: d for d in fig.data[0].dimensions}
    assert list(dims["lora.rank"].ticktext) == ["4", "8", "16"]
    assert "log10 training.learning_rate" in dims
    assert len(dims["rougeL (max)"].values) == 4  # complete trials only
