"""HTML table cells and tables, shared by the page and the analyses' tables.

A leaf: it imports no other module of :mod:`reports`. Every string from the study goes
through :func:`fmt` or :func:`html.escape` before it reaches the page.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Sequence


def fmt(value: Any) -> str:
    """A table cell's text, escaped: 4 significant digits for floats, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def row(cells: Iterable[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def num(value: Any) -> str:
    return f'<span class="num">{fmt(value)}</span>'


def with_interval(value: Any, interval: Any) -> str:
    """A number with its 95 % interval (anything with ``low`` and ``high``) below it; the number alone without one."""
    if interval is None:
        return num(value)
    return f'<span class="num">{fmt(value)}<br><span class="gain">[{interval.low:.3g}, {interval.high:.3g}]</span></span>'


def table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table with an escaped header row; the body cells must be HTML already."""
    return "<table>" + row((escape(h) for h in head), header=True) + "".join(row(r) for r in rows) + "</table>"
