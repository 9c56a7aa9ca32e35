"""Any answers scored with the study's metrics: per-question scores, 95 % intervals, and paired gains.

A team that has answers from elsewhere (a retrieval pipeline, a hosted model, its clinicians)
scores them on the same questions as a trial, in the data's language, and compares two sets
of answers question by question. Metrics come from *metric sources*: the text metrics, the
BERTScore encoder, and any other source with the same small interface (a judge on the
team's own endpoint is one, when configured) — each returns per-question scores by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import objectives
from study.core.errors import StudyError
from study.finetune.answers import AnswerRow, paired, read_answers
from study.finetune.evaluation import score_answers

#: The order of the table; metrics a source adds beyond these follow in its own order.
SHOWN = ("rougeL", "rouge1", "rouge2", "bleu", "chrf", "token_f1", "exact_match", "bertscore_f1",
         "answer_words", "length_ratio", "length_error")


class MetricSource(Protocol):
    """Something that scores answers against their questions and references, one score per question.

    Returns ``metric -> per-question scores`` (and corpus-level rows under ``<metric>_stats``,
    as BLEU's counts); the metric's direction comes from :data:`objectives.METRICS`.
    """

    def __call__(self, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]
                 ) -> dict[str, list]: ...


@dataclass(frozen=True)
class TextMetrics:
    """ROUGE, BLEU, token-F1, exact match and length, read in ``language`` (as a trial scores them)."""

    language: str | None = None

    def __call__(self, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]
                 ) -> dict[str, list]:
        return score_answers(answers, references, None, questions, self.language).per_question


@dataclass(frozen=True)
class BertScoreMetric:
    """BERTScore F1 with one loaded encoder (:class:`objectives.BertScorer`)."""

    scorer: Any

    def __call__(self, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]
                 ) -> dict[str, list]:
        return {"bertscore_f1": self.scorer.per_question(answers, references)}


@dataclass(frozen=True)
class ScoredAnswers:
    """One answer file's per-question scores from every source."""

    path: str
    rows: tuple[AnswerRow, ...]
    per_question: dict[str, list] = field(default_factory=dict)

    def intervals(self) -> dict[str, objectives.Interval]:
        return objectives.interval_table(self.per_question)


def score_rows(path: str, rows: Sequence[AnswerRow], sources: Sequence[MetricSource]) -> ScoredAnswers:
    """Every source's per-question scores of ``rows``."""
    questions = [r.question for r in rows]
    references = [r.reference for r in rows]
    answers = [r.answer for r in rows]
    per_question: dict[str, list] = {}
    for source in sources:
        per_question.update(source(questions, references, answers))
    return ScoredAnswers(path, tuple(rows), per_question)


def load_encoder(path: str | None = None, device: str = "cpu") -> Any:
    """The BERTScore encoder (:class:`objectives.BertScorer`): ``path`` or the bundled one."""
    try:
        return objectives.BertScorer(path, device=device)
    except FileNotFoundError as exc:
        raise StudyError(f"--bertscore-model: {exc}") from None


@dataclass(frozen=True)
class JudgeMetrics:
    """The judge of correctness and harm on the team's own endpoint (``evaluation.judge``): judge_correct,
    judge_harmful, judge_length per question, cached like a study's judgements."""

    cfg: Any  # study.core.config.JudgeConfig

    def __call__(self, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]) -> dict[str, list]:
        from study.finetune.endpoint_judge import judge_answers

        return judge_answers(self.cfg, questions, references, answers)[1]


def metric_sources(language: str, encoder: Any = None, judge: Any = None) -> list[MetricSource]:
    """The sources every answer file is scored with: the text metrics, BERTScore with an encoder, and the
    judge where one is configured; every source's per-question scores get intervals and paired gains."""
    sources: list[MetricSource] = [TextMetrics(language)]
    if encoder is not None:
        sources.append(BertScoreMetric(encoder))
    if judge is not None:
        sources.append(JudgeMetrics(judge))
    return sources


def score_files(answers: str, against: str | None = None, language: str | None = None, bertscore: bool = True,
                bertscore_model: str | None = None, judge: Any = None) -> tuple[dict[str, Any], list[str]]:
    """Read, check and score one answer file (and the one it is compared with); returns the summary and notes.

    The language is ``language`` or detected from the questions and references; the metrics are
    self-checked on the references first (:func:`objectives.checked_language`), and a metric that
    cannot read the language stops here. The notes are the language, the self-check's line and
    any warning about the encoder.
    """
    rows = read_answers(answers)
    other = paired(rows, answers, read_answers(against), against) if against is not None else None
    encoder = load_encoder(bertscore_model) if bertscore else None
    code, check = objectives.checked_language([t for r in rows for t in (r.question, r.reference)],
                                              [r.reference for r in rows], language, answers, "--language", encoder)
    sources = metric_sources(code, encoder, judge)
    notes = [f"language: {code} ({'--language' if language else 'detected from the file'})", check.summary()]
    warning = objectives.encoder_warning(code, bertscore_model, "--bertscore-model") if bertscore else None
    notes += [warning] if warning else []
    scored = score_rows(answers, rows, sources)
    base = score_rows(against, other, sources) if other is not None and against is not None else None
    return report(scored, code, base), notes


def _ordered(names: Sequence[str]) -> list[str]:
    return [m for m in SHOWN if m in names] + [m for m in names if m not in SHOWN]


def report(scored: ScoredAnswers, language: str, against: ScoredAnswers | None = None) -> dict[str, Any]:
    """A JSON-able summary: each metric's mean and interval, each question's scores, and the gain over ``against``.

    ``gains[metric]`` is :func:`objectives.gain_table`'s entry: ``tuned`` is this file's
    mean, ``base`` the other file's, ``gain`` their paired difference with its 95 % interval
    and Wilcoxon p-value (None for BLEU, a corpus statistic).
    """
    intervals = scored.intervals()
    metrics = _ordered(list(intervals))
    out: dict[str, Any] = {
        "answers": scored.path,
        "language": language,
        "questions": len(scored.rows),
        "metrics": {m: intervals[m].to_dict() for m in metrics},
        "per_question": [
            {"line": row.line, "question": row.question,
             "scores": {m: scored.per_question[m][i] for m in metrics if m in scored.per_question}}
            for i, row in enumerate(scored.rows)
        ],
    }
    if against is not None:
        out["against"] = against.path
        out["against_metrics"] = {m: iv.to_dict() for m, iv in against.intervals().items()}
        out["gains"] = objectives.gain_table(scored.per_question, against.per_question, metrics)
    return out


def table(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table: one metric a row; with a comparison, the gain, its interval and p."""
    gains = summary.get("gains")
    head = f"{summary['answers']}: {summary['questions']} answers, language {summary['language']}"
    if gains is not None:
        head += f"; gain = these answers − {summary['against']} (paired, same questions)"
    lines = [head, ""]
    if gains is None:
        lines.append(f"{'metric':<14}{'mean':>9}  95 % interval")
    else:
        lines.append(f"{'metric':<14}{'mean':>9}{'other':>9}{'gain':>9}  95 % interval of the gain      p")
    for metric, iv in summary["metrics"].items():
        row = f"{metric:<14}{_num(iv['estimate']):>9}"
        if gains is None:
            row += f"  [{_num(iv['low'])}, {_num(iv['high'])}]"
        elif metric in gains:
            g = gains[metric]
            p = "-" if g["p_value"] is None else f"{g['p_value']:.3g}"
            low, high = g["gain_ci95"]
            row += f"{_num(g['base']):>9}{_num(g['gain'], signed=True):>9}  [{_num(low, True)}, {_num(high, True)}]"
            row += f"{p:>13}"
        lines.append(row)
    return "\n".join(lines)


def _num(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


__all__ = ["BertScoreMetric", "MetricSource", "ScoredAnswers", "TextMetrics", "load_encoder", "metric_sources", "report",
           "score_files", "score_rows", "table"]
