"""A self-contained HTML page from the study data and its figures.

plotly.js is embedded inline once, with the first figure, so the file opens offline in any
browser, without a server or the internet: clinical data stays on the machine. Every string
that comes from the study (names, parameters, questions, answers) is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import optuna

from reports._analysis import Analyses
from reports._data import BestTrial, StudyData, TrialRow, study_data
from reports._figures import FigureBlock, build_figures

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


def write_report(study: optuna.Study, out: Path, companion: optuna.Study | None = None) -> Path:
    """Write the report of ``study`` to ``out`` (parent folders created) and return the path.

    ``companion``: the ``<name>.pruning`` twin study, if any (see :func:`reports.study_data`).
    """
    data = study_data(study, companion)
    page = render_html(data, build_figures(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render_html(data: StudyData, blocks: Sequence[FigureBlock]) -> str:
    """The whole page as one string."""
    title = f"Study {data.name}"
    body = [f"<h1>{escape(title)}</h1>", _header(data), _figures(blocks, data.analyses), _best_table(data),
            _trials_table(data)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _fmt(value: Any) -> str:
    """A table cell's text, escaped: 4 significant digits for floats, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def _row(cells: Iterable[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _num(value: Any) -> str:
    return f'<span class="num">{_fmt(value)}</span>'


def _header(data: StudyData) -> str:
    attrs = data.attrs
    total = sum(data.counts.values())
    counts = ", ".join(f"{n} {state.lower()}" for state, n in data.counts.items())
    split = "/".join(_fmt(attrs.get(k)) for k in ("n_train", "n_val", "n_test"))
    items = [
        ("trials", f"{total} ({escape(counts)})"),
        ("objectives", escape(", ".join(str(o) for o in data.objectives))),
        ("search space", _fmt(attrs.get("space"))),
        ("data source", _fmt(attrs.get("data_source"))
         + (f" (fingerprint {_fmt(attrs['data_fingerprint'])})" if attrs.get("data_fingerprint") else "")),
        ("train / val / test questions", split),
        ("pruner", _pruner(attrs)),
        ("BERTScore encoder", _fmt(attrs.get("bertscore_encoder"))),
    ]
    return "<table class=\"meta\">" + "".join(_row([f"<b>{k}</b>", v]) for k, v in items) + "</table>"


def _pruner(attrs: dict[str, Any]) -> str:
    pruner = attrs.get("pruner")
    if pruner in (None, "none"):
        return _fmt(pruner)
    return f"{_fmt(pruner)} on {_fmt(attrs.get('pruning_metric'))}"


def _figures(blocks: Sequence[FigureBlock], analyses: Analyses) -> str:
    """Each block's heading, note and figure, then the table that goes with it, if any."""
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
        if block.key in _TABLES:
            parts.append(_TABLES[block.key](analyses))
    return "\n".join(parts)


def _value_cells(row: TrialRow) -> list[str]:
    return [_num(v) for v in (row.values or ())]


def _best_table(data: StudyData) -> str:
    """The Pareto trials: objectives, parameters, other metrics, then sample answers."""
    parts = ['<h2 id="best">Best trials (Pareto front)</h2>']
    if not data.best:
        parts.append('<p class="note">no COMPLETE trials yet</p>')
        return "\n".join(parts)
    params = sorted({p for b in data.best for p in b.row.params})
    objective_names = [o.metric for o in data.objectives]
    metrics = sorted({m for b in data.best for m in b.row.metrics} - set(objective_names))
    head = ["trial", *(str(o) for o in data.objectives), *params, *metrics, "trial seconds"]
    rows = [_row((escape(h) for h in head), header=True)]
    for b in data.best:
        r = b.row
        rows.append(_row([str(r.number), *_value_cells(r),
                          *(_fmt(r.params.get(p)) for p in params),
                          *(_num(r.metrics.get(m)) for m in metrics),
                          _num(r.duration_s)]))
    parts.append("<table>" + "".join(rows) + "</table>")
    parts.extend(_samples(b) for b in data.best)
    return "\n".join(parts)


def _samples(best: BestTrial) -> str:
    """Sample answers of one trial beside the references, in a collapsible block."""
    summary = f"trial {best.row.number}: {len(best.samples)} sample answers"
    if not best.samples:
        return f"<p>{escape(summary)}</p>"
    rows = [_row(["question", "reference", "answer"], header=True)]
    rows += [_row([escape(s.question), escape(s.reference), escape(s.answer)]) for s in best.samples]
    return (f"<details><summary>{escape(summary)}</summary>"
            f"<table class=\"samples\">{''.join(rows)}</table></details>")


def _trials_table(data: StudyData) -> str:
    """Every trial in one line: state, objectives, seconds, and why it was pruned or failed."""
    parts = ['<h2 id="trials">All trials</h2>']
    head = ["trial", "state", *(str(o) for o in data.objectives), "trial seconds", "pruned at", "fail reason"]
    rows = [_row((escape(h) for h in head), header=True)]
    blank = [_num(None)] * len(data.objectives)
    for r in data.trials:
        rows.append(_row([str(r.number), escape(r.state), *(_value_cells(r) or blank),
                          _num(r.duration_s), _fmt(r.pruned_at), _fmt(r.fail_reason)]))
    parts.append("<table>" + "".join(rows) + "</table>")
    return "\n".join(parts)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    return "<table>" + _row((escape(h) for h in head), header=True) + "".join(_row(r) for r in rows) + "</table>"


def _with_gain(value: float | None, gain: float | None) -> str:
    """A test score with its difference to the base model below it."""
    if gain is None:
        return _num(value)
    return f'<span class="num">{_fmt(value)}<br><span class="gain">{gain:+.3g} vs base</span></span>'


def _held_out_table(a: Analyses) -> str:
    """Test-split score of the base model and of each exported trial, with the gain over the base."""
    h = a.held_out
    if not h.rows:
        return ""
    return _table(["model", *h.metrics],
                  ([escape(r.label), *(_with_gain(r.scores.get(m), r.gains.get(m)) for m in h.metrics)]
                   for r in h.rows))


def _pretraining_table(a: Analyses) -> str:
    """Count, mean and best of each objective per group (continued pre-training off / on)."""
    rows = [[escape(str(c.objective)), escape(g.label), str(len(g.values)), _num(g.mean), _num(g.best)]
            for c in a.pretraining.comparisons for g in c.groups]
    return _table(["objective", "continued pre-training", "trials", "mean", "best"], rows) if rows else ""


def _human_tables(a: Analyses) -> str:
    """Rated trials, best mean rating first, beside their objectives; then each metric's agreement."""
    h = a.human
    if not h.rows:
        return ""
    ratings = _table(["trial", "mean human rating", "rated answers", *h.objectives],
                     ([str(r.number), _num(r.mean_rating), _num(r.n), *(_num(r.metrics.get(m)) for m in h.objectives)]
                      for r in h.rows))
    if not h.agreement:
        return ratings
    agreement = _table(["metric", "Spearman rho with human rating"],
                       ([escape(m), _num(rho)] for m, rho in h.agreement.items()))
    return ratings + "\n" + agreement


# Tables written after the figure block of the same key.
_TABLES: dict[str, Callable[[Analyses], str]] = {
    "test": _held_out_table,
    "pretraining": _pretraining_table,
    "human": _human_tables,
}
