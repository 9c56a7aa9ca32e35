"""Reports of a study: study → plain data → plotly figures → one self-contained HTML page.

Besides the optimisation itself (Pareto front, history, importances, pruning), the page holds
the clinical analyses of :mod:`reports._analysis`: metric correlations, base model versus
exported trials on the test split, forgetting, continued pre-training, answer length and
human ratings. Each shows a short note where its data are not in the study yet.

    from reports import write_report
    write_report(optuna.load_study(study_name="smoke", storage="sqlite:///studies/smoke.db"),
                 Path("reports/out/smoke.html"))

or from the command line: ``python -m study.report --study-name smoke``.
"""

from __future__ import annotations

from reports._analysis import Analyses
from reports._data import StudyData, study_data
from reports._figures import FigureBlock, build_figures
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
