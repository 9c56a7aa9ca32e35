"""Reports of a study: study → plain data → plotly figures → one self-contained HTML page.

One module per figure or analysis, each holding its data function (frozen NamedTuples and
dataclasses) beside its figure, in the habit of ``optuna.visualization``:

- the optimisation: :mod:`~reports._pareto`, :mod:`~reports._history`, :mod:`~reports._importance`,
  :mod:`~reports._parallel`, :mod:`~reports._intermediate`, and the best-trials table :mod:`~reports._best`;
- the analyses registered in :mod:`reports._analyses`: whether the pruning metric predicts the
  objectives (:mod:`~reports._proxy`), the best trials against the untuned base model
  (:mod:`~reports._vs_base`) and the confirmation with fresh seeds (:mod:`~reports._confirmation`),
  metric correlations (:mod:`~reports._correlation`), base model versus exported trials on the test split
  (:mod:`~reports._held_out`), forgetting (:mod:`~reports._forgetting`), continued pre-training
  (:mod:`~reports._pretraining`), answer length (:mod:`~reports._length`) and the
  clinicians' review (:mod:`~reports._review`). Each shows a short note where its data are not in the study yet.

Every score is shown with its 95 % interval where the study stored one, and every gain over
the base model with the interval of that gain; the base model (the trial with user attribute
``reference: "base"``) is drawn on the figures but neither ranked nor searched.

They build on the leaves :mod:`reports._rows` (the study's rows), :mod:`reports._block`
(figure block, colours, sizes), :mod:`reports._cells` (HTML cells) and :mod:`reports._gains`
(gains over the base model in numbers and words);
:mod:`reports._data` computes everything once, :mod:`reports._html` writes the page.

    from reports import write_report
    write_report(optuna.load_study(study_name="smoke", storage="sqlite:///studies/smoke.db"),
                 Path("reports/out/smoke.html"))

or from the command line: ``python -m study.report --study-name smoke``.
"""

from __future__ import annotations

from reports._analyses import Analyses
from reports._block import FigureBlock
from reports._data import StudyData, study_data
from reports._figures import build_figures
from reports._html import render_html, write_report

__all__ = [
    "Analyses",
    "FigureBlock",
    "StudyData",
    "build_figures",
    "render_html",
    "study_data",
    "write_report",
]
