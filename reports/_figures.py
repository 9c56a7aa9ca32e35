"""Every figure of the report, in page order: the study's own, then the registered analyses.

Each figure comes in a :class:`~reports._block.FigureBlock` with a title and, where the data
cannot support the figure (no complete trials yet, too few for importances), a note saying
why instead of an exception: a report of a young study is still worth reading.
"""

from __future__ import annotations

from reports import _history, _importance, _intermediate, _parallel, _pareto
from reports._analyses import analysis_figures
from reports._block import FigureBlock
from reports._data import StudyData


def build_figures(data: StudyData) -> tuple[FigureBlock, ...]:
    """Pareto front, optimisation history, importances, parallel coordinates, intermediate values,
    then the analyses of :mod:`reports._analyses`."""
    return (
        _pareto.figure(data),
        _history.figure(data.histories),
        _importance.figure(data.importances),
        _parallel.figure(data),
        _intermediate.figure(data),
        *analysis_figures(data.analyses),
    )
