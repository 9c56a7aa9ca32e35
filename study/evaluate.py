"""Score any model on a QA split and print the metrics as JSON.

    python -m study.evaluate --model runs/best/merged                     # bundled data, test split
    python -m study.evaluate --model smollm2-135m --split val             # the base model, for comparison
    python -m study.evaluate --model DIR --data my_qa.jsonl --config best.yaml

Decoding, prompt, retrieval, data and judge settings come from ``--config`` (an exported YAML)
when given, else the defaults: the model answers as a trial's model answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from study.cli import entry_point, quiet_libraries


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="model directory, 'smollm2-135m', or a hub id (with --allow-hub)")
    p.add_argument("--data", help="JSONL file or directory with train/val/test.jsonl (default: bundled set)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--config", help="exported YAML whose data, prompt, retrieval, decoding and judge settings to use")
    p.add_argument("--limit", type=int, help="score at most this many questions")
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--allow-hub", action="store_true")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)
    from study.core.config import TrialConfig, load_trial_config
    from study.finetune.fair_base import score_pairs
    from study.finetune.workbench import Workbench

    cfg = load_trial_config(args.config) if args.config else TrialConfig()
    cfg = replace(cfg, model=replace(cfg.model, name=args.model, device=args.device or cfg.model.device),
                  data=replace(cfg.data, path=args.data or cfg.data.path, max_train_examples=None,
                               max_val_examples=None))
    bench = Workbench.load(cfg, allow_hub=args.allow_hub)
    pairs = list(getattr(bench.splits, args.split))[: args.limit]
    # Answered as a trial answers: the same prompt, retrieval, decoding, metrics and, where configured, judge.
    evaluation = score_pairs(bench.base.model, bench, cfg, pairs)
    scorer = bench.bertscorer
    report = {"model": args.model, "split": args.split, "questions": len(pairs), "bertscore_encoder": scorer.name,
              "metrics": evaluation.metrics}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
