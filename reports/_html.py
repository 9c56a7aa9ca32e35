"""A self-contained HTML page from the study data and its figures.

The page: a header (counts, objectives, data, pruner, how the base model decoded), each figure
with its note and the table of its analysis (:func:`reports._analyses.analysis_tables`), the
best trials (:mod:`reports._best`), then every trial in one line, objective values with their
95 % intervals where stored.

plotly.js is embedded inline once, with the first figure, so the file opens offline in any
browser, without a server or the internet: clinical data stays on the machine. Every string
that comes from the study (names, parameters, questions, answers) is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence

import optuna

from reports import _best
from reports._analyses import analysis_tables
from reports._block import FigureBlock
from reports._cells import fmt, num, row, with_interval
from reports._data import StudyData, study_data
from reports._figures import build_figures
from study.core import keys

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
span.num { display: block; text-align: right; font-variant-numeric: tabular-nums; }
span.gain { color: #666; font-size: 0.85em; }
.note { color: #8a5a00; font-style: italic; }
.samples td { max-width: 30em; }
details { margin: 0.3em 0 1em; }
"""


def write_report(study: optuna.Study, out: Path, pruning_study: optuna.Study | None = None) -> Path:
    """Write the report of ``study`` to ``out`` (parent folders created) and return the path.

    ``pruning_study``: the ``<name>.pruning`` study, if any (see :func:`reports.study_data`).
    """
    data = study_data(study, pruning_study)
    page = render_html(data, build_figures(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render_html(data: StudyData, blocks: Sequence[FigureBlock]) -> str:
    """The whole page as one string."""
    title = f"Study {data.name}"
    body = [f"<h1>{escape(title)}</h1>", _header(data), _figures(blocks, analysis_tables(data.analyses)),
            _best.table(data), _trials_table(data)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _header(data: StudyData) -> str:
    attrs = data.attrs
    total = sum(data.counts.values())
    counts = ", ".join(f"{n} {state.lower()}" for state, n in data.counts.items())
    split = "/".join(fmt(attrs.get(k)) for k in ("n_train", "n_val", "n_test"))
    items = [
        ("trials", f"{total} ({escape(counts)})"),
        ("objectives", escape(", ".join(str(o) for o in data.objectives))),
        ("search space", fmt(attrs.get(keys.SPACE))),
        ("data source", fmt(attrs.get(keys.DATA_SOURCE))
         + (f" (fingerprint {fmt(attrs[keys.DATA_FINGERPRINT])})" if attrs.get(keys.DATA_FINGERPRINT) else "")),
        ("train / val / test questions", split),
        ("pruner", _pruner(attrs)),
        ("BERTScore encoder", fmt(attrs.get(keys.BERTSCORE_ENCODER))),
    ]
    if attrs.get(keys.BASE_DECODING):
        items.append(("base model decoding", fmt(attrs[keys.BASE_DECODING])))
    return "<table class=\"meta\">" + "".join(row([f"<b>{k}</b>", v]) for k, v in items) + "</table>"


def _pruner(attrs: dict[str, Any]) -> str:
    pruner = attrs.get(keys.PRUNER)
    if pruner in (None, "none"):
        return fmt(pruner)
    return f"{fmt(pruner)} on {fmt(attrs.get(keys.PRUNING_METRIC))}"


def _figures(blocks: Sequence[FigureBlock], tables: Mapping[str, str]) -> str:
    """Each block's heading, note and figure, then the table of the same key, if any."""
    parts = []
    js_included = False
    for block in blocks:
        parts.append(f'<h2 id="{escape(block.key)}">{escape(block.title)}</h2>')
        if block.note:
            parts.append(f'<p class="note">{escape(block.note)}</p>')
        if block.figure is not None:
            # The first drawn figure carries plotly.js (~4.8 MB); the others reuse it.
            parts.append(block.figure.to_html(full_html=False, include_plotlyjs=not js_included,
                                              config={"displaylogo": False}))
            js_included = True
        if block.key in tables:
            parts.append(tables[block.key])
    return "\n".join(parts)


def _trials_table(data: StudyData) -> str:
    """Every trial in one line: state, objectives, seconds, and why it was pruned or failed."""
    parts = ['<h2 id="trials">All trials</h2>']
    head = ["trial", "state", *(str(o) for o in data.objectives), "trial seconds", "pruned at", "fail reason"]
    rows = [row((escape(h) for h in head), header=True)]
    blank = [num(None)] * len(data.objectives)
    for r in data.trials:
        values = [with_interval(v, r.intervals.get(o.metric)) for v, o in zip(r.values or (), data.objectives)]
        label = f"{r.number} (base model)" if r.is_base else str(r.number)
        rows.append(row([label, escape(r.state), *(values or blank),
                         num(r.duration_s), fmt(r.pruned_at), fmt(r.fail_reason)]))
    parts.append("<table>" + "".join(rows) + "</table>")
    return "\n".join(parts)
