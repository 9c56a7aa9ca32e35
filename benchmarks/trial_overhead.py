"""The same fixed configurations run by this project and by ``Trainer.hyperparameter_search``.

    python -m benchmarks.trial_overhead            # 10 configurations: 8 pairs, 1 epoch, 8 questions
    python -m benchmarks.trial_overhead --quick    # 3 configurations: 4 pairs, 4 questions

Both sides run Optuna trials (in memory, direction ``maximize`` on ROUGE-L) in which
configuration ``i`` of one fixed list (LoRA rank, alpha, target modules, learning rate) trains
on the same training pairs, tokenised by the project's ``encode_example`` (chat template, loss
on answer tokens), and then scores the same validation questions:

- project: one ``study.trial.Workbench`` (base model, tokens and BERTScore encoder loaded once)
  and ``study.trial.run_trial`` per trial: a fresh adapter on the shared model, TRL's
  ``SFTTrainer``, evaluation after the epoch;
- baseline: ``transformers.Trainer.hyperparameter_search(backend="optuna")`` with a
  ``model_init`` that reloads the base model and applies LoRA every trial (as the API
  requires); ``hp_space`` returns configuration ``i``'s training arguments, ``model_init``
  its LoRA settings; ``evaluate()`` adds to the Trainer's eval loss the same answers
  (``study.evaluation.generate_answers``, batched) and scores (``score_answers`` with the same
  BERTScore encoder, built once).

The two sides take turns trial by trial (project first on even trials, baseline first on odd
ones), so load from other processes falls on both alike; the baseline therefore calls
``hyperparameter_search(n_trials=1)`` once per configuration, which costs it nothing extra:
every one of its trials rebuilds the model anyway. A side's time is its set-up (loading,
tokenising, building the Trainer) plus its trials. Reports both, the ratio project / baseline
(goal: at most 0.6) and the per-trial wall and CPU seconds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from typing import Any

from benchmarks import _common as common

NAME = "trial_overhead"
GOAL_RATIO = 0.6
RANKS = (4, 8, 16, 32, 64)
TARGETS = ("attention", "all_linear")
LEARNING_RATES = (1e-4, 3e-4, 1e-3)


def configurations(n: int, train: int, val: int, new_tokens: int) -> list[Any]:
    """``n`` fixed trial configurations that differ in the LoRA adapter and the learning rate."""
    return [
        common.trial_config(
            data={"max_train_examples": train, "max_val_examples": val, "max_seq_length": 192},
            lora={"rank": RANKS[i % 5], "alpha": 2.0 * RANKS[i % 5], "dropout": 0.05, "target_modules": TARGETS[i % 2]},
            training={"epochs": 1, "batch_size": 4, "learning_rate": LEARNING_RATES[i % 3], "scheduler": "linear"},
            decoding={"do_sample": False, "max_new_tokens": new_tokens, "batch_size": 16},
        )
        for i in range(n)
    ]


class ProjectSide:
    """This project's way: one Workbench for the process, ``run_trial`` per Optuna trial."""

    name = "project (Workbench + run_trial)"

    def __init__(self, configs: list[Any]) -> None:
        self.configs = configs

    def set_up(self) -> None:
        import optuna

        from study.trial import Workbench

        self.bench = Workbench.load(self.configs[0])
        self.study = optuna.create_study(direction="maximize")

    def trial(self, index: int) -> float:
        from study.trial import run_trial

        scores: list[float] = []

        def objective(trial: Any) -> float:
            scores.append(run_trial(self.configs[index], self.bench).metrics["rougeL"])
            return scores[-1]

        self.study.optimize(objective, n_trials=1)
        return scores[0]


class BaselineSide:
    """``transformers.Trainer.hyperparameter_search`` with a ``model_init`` that reloads the model."""

    name = "Trainer.hyperparameter_search"

    def __init__(self, configs: list[Any]) -> None:
        self.configs = configs
        self.index = 0
        self._out = tempfile.TemporaryDirectory(prefix="bench-hp-")

    def set_up(self) -> None:
        from datasets import Dataset
        from transformers import AutoTokenizer, DataCollatorForSeq2Seq, TrainingArguments
        from transformers.trainer_callback import PrinterCallback

        import objectives
        from study.data import encode_example, encode_prompt, load_splits
        from study.model import prepare_default_model

        cfg = self.configs[0]
        self.path = str(prepare_default_model())
        splits = load_splits(cfg.data)
        tokenizer = AutoTokenizer.from_pretrained(self.path)  # right padding for training batches
        self.gen_tokenizer = AutoTokenizer.from_pretrained(self.path, padding_side="left")  # for generation
        for tok in (tokenizer, self.gen_tokenizer):
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
        system, max_len = cfg.data.instructions, cfg.data.max_seq_length
        train_ds = Dataset.from_list([encode_example(tokenizer, p, system, max_len) for p in splits.train])
        eval_ds = Dataset.from_list([encode_example(tokenizer, p, system, max_len) for p in splits.val])
        self.prompts = [encode_prompt(tokenizer, p, system) for p in splits.val]
        self.references = [p.answer for p in splits.val]
        self.scorer = objectives.BertScorer(device="cpu")
        t = cfg.training
        args = TrainingArguments(
            output_dir=self._out.name,
            num_train_epochs=t.epochs,
            per_device_train_batch_size=t.batch_size,
            per_device_eval_batch_size=16,
            learning_rate=t.learning_rate,
            lr_scheduler_type=t.scheduler,
            weight_decay=t.weight_decay,
            max_grad_norm=t.max_grad_norm,
            seed=t.seed,
            data_seed=t.seed,
            use_cpu=True,
            optim="adamw_torch",
            train_sampling_strategy="group_by_length",
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        self.trainer = self._trainer_class()(
            model_init=self._model_init,
            args=args,
            train_dataset=train_ds,
            eval_dataset=eval_ds,
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
            processing_class=tokenizer,
        )
        self.trainer.remove_callback(PrinterCallback)  # its log dicts would interleave with the table

    def _model_init(self, trial: Any = None) -> Any:
        # Trainer calls this once at construction (trial None) and again at the start of every trial.
        import peft
        import torch
        from transformers import AutoModelForCausalLM

        from study.model import peft_lora_config

        model = AutoModelForCausalLM.from_pretrained(
            self.path, dtype=torch.float32, attn_implementation="sdpa", use_safetensors=True
        )
        return peft.get_peft_model(model, peft_lora_config(self.configs[self.index].lora))

    def _hp_space(self, trial: Any) -> dict[str, Any]:
        t = self.configs[self.index].training
        trial.set_user_attr("config_index", self.index)
        return {"learning_rate": t.learning_rate, "num_train_epochs": t.epochs,
                "per_device_train_batch_size": t.batch_size, "seed": t.seed}

    def _trainer_class(self) -> type:
        from transformers import Trainer

        from study.evaluation import generate_answers, score_answers

        side = self

        class GenerativeEvalTrainer(Trainer):
            """``evaluate`` = the Trainer's eval loss + generated answers scored like the project's trials."""

            def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
                start = time.perf_counter()
                metrics = super().evaluate(*args, **kwargs)
                cfg = side.configs[side.index]
                answers = generate_answers(self.model, side.gen_tokenizer, side.prompts, cfg.decoding,
                                           seed=cfg.training.seed)
                scored = score_answers(answers, side.references, side.scorer)
                metrics.update({f"eval_{k}": v for k, v in scored.metrics.items()})
                metrics["eval_seconds"] = time.perf_counter() - start
                return metrics

        return GenerativeEvalTrainer

    def trial(self, index: int) -> float:
        self.index = index
        scores: list[float] = []

        def objective(metrics: dict[str, float]) -> float:
            scores.append(metrics["eval_rougeL"])
            return scores[-1]

        self.trainer.hyperparameter_search(
            hp_space=self._hp_space, compute_objective=objective, n_trials=1, direction="maximize", backend="optuna"
        )
        return scores[0]

    def close(self) -> None:
        self._out.cleanup()


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--configs", type=int, help="configurations (trials per side; default 10, quick 3)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    n = args.configs or (3 if args.quick else 10)
    train, val, new_tokens = (4, 4, 12) if args.quick else (8, 8, 24)
    configs = configurations(n, train, val, new_tokens)
    sides = {"project": ProjectSide(configs), "baseline": BaselineSide(configs)}
    record: dict[str, dict[str, Any]] = {k: {"wall": [], "cpu": [], "rougeL": []} for k in sides}

    # Import the heavy libraries before any timing, so the side set up first does not pay for both.
    import bert_score  # noqa: F401
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import trl  # noqa: F401

    import study.trial  # noqa: F401

    load_before = common.load_avg()
    for key, side in sides.items():
        common.progress(f"{NAME}: set-up of {side.name} ...")
        with common.timed() as t:
            side.set_up()
        record[key]["setup_wall"], record[key]["setup_cpu"] = t.wall, t.cpu
    for i in range(n):
        order = ("project", "baseline") if i % 2 == 0 else ("baseline", "project")
        for key in order:
            with common.timed() as t:
                score = sides[key].trial(i)
            for field, value in (("wall", t.wall), ("cpu", t.cpu), ("rougeL", score)):
                record[key][field].append(value)
            common.progress(f"  trial {i} {key:<8}: rougeL {score:.3f}  {t.wall:5.1f} s  {t.cpu:5.1f} CPU s")
    sides["baseline"].close()

    def total(key: str, kind: str) -> float:
        return record[key][f"setup_{kind}"] + sum(record[key][kind])

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    project, baseline = record["project"], record["baseline"]
    ratio = common.ratio(total("project", "wall"), total("baseline", "wall"))
    figures = {
        "configs": n,
        "train_examples": train,
        "val_questions": val,
        "max_new_tokens": new_tokens,
        "project_seconds": total("project", "wall"),
        "baseline_seconds": total("baseline", "wall"),
        "ratio": ratio,
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
        "cpu_ratio": common.ratio(total("project", "cpu"), total("baseline", "cpu")),
        "project_set_up_seconds": project["setup_wall"],
        "baseline_set_up_seconds": baseline["setup_wall"],
        "project_mean_trial_seconds": mean(project["wall"]),
        "baseline_mean_trial_seconds": mean(baseline["wall"]),
        "project_mean_trial_cpu_seconds": mean(project["cpu"]),
        "baseline_mean_trial_cpu_seconds": mean(baseline["cpu"]),
        "project_trial_seconds": project["wall"],
        "baseline_trial_seconds": baseline["wall"],
        "project_mean_rougeL": mean(project["rougeL"]),
        "baseline_mean_rougeL": mean(baseline["rougeL"]),
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    rows = [
        [sides[k].name, total(k, "wall"), r["setup_wall"], mean(r["wall"]), total(k, "cpu"), mean(r["cpu"]),
         mean(r["rougeL"])]
        for k, r in record.items()
    ]
    body = common.table(["side", "wall s", "set-up s", "s / trial", "CPU s", "CPU s / trial", "mean rougeL"], rows)
    body += (f"\nproject / baseline: wall time {ratio:.3f} (goal <= {GOAL_RATIO}), CPU time {figures['cpu_ratio']:.3f}")
    notes = [
        "set-up: loading model (project) or tokenizer, data and BERTScore encoder (both), and for the baseline "
        "building the Trainer, which calls model_init once; libraries are imported before any timing",
        "a baseline trial includes model_init (reloading the 135M-parameter model from safetensors and wrapping it "
        "with LoRA), the Trainer's per-trial set-up, training, eval loss, generation and scoring",
        "both sides generate with study.evaluation.generate_answers (batched, left padding) and score with the "
        "same kind of BERTScore encoder: the evaluation work is the same by construction",
        "CPU seconds count this process's threads; wall above CPU (per thread) is time lost to other processes",
    ]
    common.report(NAME, "quick" if args.quick else "default",
                  "project trials vs Trainer.hyperparameter_search, same configurations, interleaved", body,
                  figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
