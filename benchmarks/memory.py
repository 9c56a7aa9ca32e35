"""Memory from trial to trial: does a long study in one process grow?

    python -m benchmarks.memory            # 30 short trials on one Workbench
    python -m benchmarks.memory --quick    # 8 trials

One ``study.finetune.workbench.Workbench`` (the default SmolLM2-135M model, tokens, BERTScore encoder)
runs short trials one after another, as a worker of ``study.run`` does. The configurations cycle through LoRA ranks 4-64, both target
sets and three learning rates, so adapters of every size come and go. After each trial the
benchmark records the process's resident memory (``VmRSS``) and, on CUDA, the allocated
memory. Goals: resident memory after trial 30 within 10 % of trial 5 (CPU); on CUDA, allocated
memory back at the level before the first trial.
"""

from __future__ import annotations

import sys

from benchmarks import _common as common

NAME = "memory"
GOAL_GROWTH = 0.10


def rss_mib() -> float:
    """Resident memory of this process (``VmRSS`` from ``/proc/self/status``), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cuda_allocated_mib() -> float | None:
    import torch

    return torch.cuda.memory_allocated() / 2**20 if torch.cuda.is_available() else None


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, help="trials (default 30; quick 8)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    n = args.trials or (8 if args.quick else 30)
    early = 3 if args.quick else 5  # the trial compared with the last one

    from benchmarks.trial_overhead import configurations
    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    configs = configurations(n, train=4, val=4, new_tokens=8)
    bench = Workbench.load(configs[0])  # freezes the objects made so far out of the collector's view
    rss: list[float] = []
    cuda: list[float | None] = []
    loaded_rss, loaded_cuda = rss_mib(), cuda_allocated_mib()
    for i, cfg in enumerate(configs):
        result = run_trial(cfg, bench)
        rss.append(rss_mib())
        cuda.append(cuda_allocated_mib())
        common.progress(f"  trial {i + 1:>2}: rss {rss[-1]:7.1f} MiB   loss {result.metrics['eval_loss']:.3f}")
    growth = rss[-1] / rss[early - 1] - 1
    figures = {
        "trials": n,
        "compared_trial": early,
        "rss_after_loading_mib": loaded_rss,
        "rss_mib": rss,
        "growth": growth,
        "goal_growth": GOAL_GROWTH,
        "goal_met": growth <= GOAL_GROWTH,
        "cuda_allocated_after_loading_mib": loaded_cuda,
        "cuda_allocated_mib": cuda,
        "cuda_back_to_baseline": None if loaded_cuda is None else all(c == loaded_cuda for c in cuda),
    }
    rows = [[i + 1, r, c if c is not None else "-"] for i, (r, c) in enumerate(zip(rss, cuda))
            if i + 1 in (1, early, n) or (i + 1) % 5 == 0]
    body = common.table(["after trial", "resident MiB", "CUDA allocated MiB"], rows)
    body += (f"\nafter loading: {loaded_rss:.1f} MiB resident; trial {n} vs trial {early}: {growth:+.1%} "
             f"(goal <= {GOAL_GROWTH:+.0%})")
    notes = [
        "configurations as in benchmarks/trial_overhead (ranks 4-64, attention or all linear layers, three "
        "learning rates), each with 4 training pairs, 1 epoch, 4 validation questions, 8 new tokens",
        "resident memory includes the allocator's free lists: glibc keeps freed blocks for reuse, so the figure "
        "settles after the first trials rather than returning to the level after loading",
    ]
    common.report(NAME, "quick" if args.quick else "default", "resident memory over a run of trials", body,
                  figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
