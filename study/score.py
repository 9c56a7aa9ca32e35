"""Score any answers with the study's metrics, and compare two sets of answers question by question.

    python -m study.score --answers answers.jsonl
    python -m study.score --answers ours.jsonl --against hosted.jsonl --language sv
    python -m study.score --answers studies/heart-artifacts/<id>/trial-12-predictions.jsonl --json

Each line of an answer file is ``{"question", "reference", "answer"}`` (a trial's predictions
artifact has these fields). Every metric gets its mean over the questions with a 95 %
bootstrap interval; with ``--against`` (answers to the same questions, with the same
references), the paired gain of ``--answers`` over ``--against`` with its interval and p-value.
"""

from __future__ import annotations

import argparse
import json
import sys

from study.cli import entry_point, quiet_libraries


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.score", description=__doc__.split("\n\n")[0])
    p.add_argument("--answers", required=True, metavar="FILE.jsonl", help="the answers to score")
    p.add_argument("--against", metavar="OTHER.jsonl",
                   help="answers to the same questions to compare with: the gain is ANSWERS minus OTHER")
    p.add_argument("--language", help="ISO 639-1 code of the answers (default: detected from the file)")
    p.add_argument("--json", action="store_true", help="print JSON (per-question scores included) instead of a table")
    p.add_argument("--no-bertscore", action="store_true", help="skip BERTScore (no encoder is loaded)")
    p.add_argument("--bertscore-model", metavar="DIR",
                   help="local encoder directory for BERTScore (default: the bundled English-only all-MiniLM-L6-v2)")
    p.add_argument("--judge-endpoint", metavar="URL",
                   help="an OpenAI-compatible server on your own machines that rates each answer's correctness, harm "
                        "and length (README: Judging correctness and harm); off by default")
    p.add_argument("--judge-model", metavar="NAME", help="the judge model's name as the server knows it")
    p.add_argument("--judge-rubric", metavar="FILE.md", help="the rubric (default: the bundled judge_rubric.md)")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()
    from study.finetune.scoring import score_files, table

    judge = None
    if args.judge_endpoint:
        from study.core.config import JudgeConfig
        from study.finetune.endpoint_judge import preflight

        judge = JudgeConfig(endpoint=args.judge_endpoint, model=args.judge_model, rubric=args.judge_rubric)
        warning = preflight(judge, [], "rougeL")  # an endpoint without a model, a missing rubric: one line here
        if warning:
            print(warning if warning.startswith("warning:") else f"warning: {warning}", file=sys.stderr)
    summary, notes = score_files(args.answers, args.against, args.language, bertscore=not args.no_bertscore,
                                 bertscore_model=args.bertscore_model, judge=judge)
    for note in notes:
        print(note, file=sys.stderr)
    print(json.dumps(summary, indent=1, ensure_ascii=False) if args.json else table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
