"""Reproduce an exported fine-tune and write the adapter and the merged model.

    python -m study.train --config best.yaml --out runs/best

Writes ``runs/best/adapter`` (PEFT adapter), ``runs/best/merged`` (a plain model with
W + (alpha/r) B A folded into its weights, loadable without PEFT) and ``runs/best/metrics.json``
(validation metrics of this run). Where ``--allow-personal-data`` let identifiers in the data
through, ``personal_data.json`` in the adapter and merged folders says so (what was found, by
kind), so that the record travels with the model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from study.cli import add_personal_data_flag, entry_point, quiet_libraries


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="YAML written by study.export (or a config with the same sections)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--allow-hub", action="store_true")
    add_personal_data_flag(p)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)
    from study.core.config import load_trial_config
    from study.finetune.data_guard import guard
    from study.finetune.model import merge_adapter, resolve_model
    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    cfg = load_trial_config(args.config)
    allowed = guard(cfg, args.allow_personal_data, leaves=True)  # no canaries; the data scanned before any write
    out = Path(args.out)
    bench = Workbench.load(cfg, allow_hub=args.allow_hub)
    adapter_dir = out / "adapter"

    def save(model: object) -> None:
        model.save_pretrained(adapter_dir)  # type: ignore[attr-defined]
        bench.base.tokenizer.save_pretrained(adapter_dir)

    result = run_trial(cfg, bench, show_progress=not args.no_progress, on_trained=save)
    merged_dir = merge_adapter(resolve_model(cfg.model.name, allow_hub=args.allow_hub), adapter_dir, out / "merged")
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=2))
    for folder in (adapter_dir, merged_dir) if allowed else ():
        (Path(folder) / "personal_data.json").write_text(json.dumps(allowed, indent=2))
    shown = ", ".join(f"{k}={result.metrics[k]:.4g}" for k in ("rougeL", "bertscore_f1", "eval_loss") if k in result.metrics)
    print(f"adapter: {adapter_dir}\nmerged model: {merged_dir}\nvalidation: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
