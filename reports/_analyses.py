"""The registry of the clinical analyses: which the report shows, in page order, and how they are run.

Each analysis is one module beside this one that provides (see :class:`Analysis`)

    KEY                          the figure's key and HTML anchor, e.g. "correlation"
    info(data) -> Info           plain data (NamedTuples) from the study's rows, with a note where they are missing
    figure(info) -> FigureBlock  the plotly figure, or the note that replaces it
    table(info) -> str | None    HTML written below the figure; None where there is none

To add an analysis: write its module, then register it with one line in :class:`Analyses`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from reports import (
    _confirmation,
    _correlation,
    _forgetting,
    _held_out,
    _knowledge,
    _length,
    _pretraining,
    _privacy,
    _proxy,
    _stopping,
    _review,
    _vs_base,
)
from reports._block import FigureBlock
from reports._rows import StudyRows


class Analysis(Protocol):
    """What the module of one analysis provides."""

    KEY: str

    def info(self, data: StudyRows, /) -> Any: ...

    def figure(self, info: Any, /) -> FigureBlock: ...

    def table(self, info: Any, /) -> str | None: ...


def _registered(module: Analysis) -> Any:
    """A field of :class:`Analyses` that holds ``module.info(data)``."""
    return field(metadata={"module": module})


@dataclass(frozen=True)
class Analyses:
    """The info of every registered analysis; one line each, in the order of the page."""

    stopping: _stopping.Stopping = _registered(_stopping)
    proxy: _proxy.Proxy = _registered(_proxy)
    vs_base: _vs_base.VsBase = _registered(_vs_base)
    confirmation: _confirmation.Confirmation = _registered(_confirmation)
    correlations: _correlation.Correlations = _registered(_correlation)
    held_out: _held_out.HeldOut = _registered(_held_out)
    forgetting: _forgetting.Forgetting = _registered(_forgetting)
    pretraining: _pretraining.Pretraining = _registered(_pretraining)
    knowledge: _knowledge.Knowledge = _registered(_knowledge)
    lengths: _length.LengthTradeoff = _registered(_length)
    review: _review.Review = _registered(_review)
    privacy: _privacy.Privacy = _registered(_privacy)


def registered() -> tuple[tuple[str, Analysis], ...]:
    """Each field of :class:`Analyses` with the module that fills it."""
    return tuple((f.name, f.metadata["module"]) for f in fields(Analyses))


def analyses(data: StudyRows) -> Analyses:
    """Every registered analysis of the study, from its rows."""
    return Analyses(**{name: module.info(data) for name, module in registered()})


def analysis_figures(a: Analyses) -> tuple[FigureBlock, ...]:
    """The figure of each registered analysis, in page order."""
    return tuple(module.figure(getattr(a, name)) for name, module in registered())


def analysis_tables(a: Analyses) -> dict[str, str]:
    """The tables to write after the figure block of the same key."""
    out: dict[str, str] = {}
    for name, module in registered():
        if (html := module.table(getattr(a, name))) is not None:
            out[module.KEY] = html
    return out
