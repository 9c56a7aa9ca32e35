"""The same fixed configurations run by this project and by ``Trainer.hyperparameter_search``.

    python -m benchmarks.trial_overhead            # 10 configurations: 8 pairs, 1 epoch, 8 questions
    python -m benchmarks.trial_overhead --quick    # 3 configurations: 4 pairs, 4 questions
    python -m benchmarks.trial_overhead --baselines both   # also the baseline given the project's evaluation

Both sides run Optuna trials (in memory, direction ``maximize`` on ROUGE-L) in which
configuration ``i`` of one fixed list (LoRA rank, alpha, target modules, learning rate) trains
on the same training pairs, tokenised by the project's ``encode_example`` (chat template, loss
on answer tokens), and then scores the same validation questions:

- project: one ``study.finetune.workbench.Workbench`` (base model, tokens and BERTScore encoder loaded once)
  and ``study.finetune.trial.run_trial`` per trial: a fresh adapter on the shared model, TRL's
  ``SFTTrainer``, evaluation after the epoch;
- project without its membership pass (``privacy.membership_pairs: 0``): a study measures
  membership inference in every trial by default (issue 26), which the baseline has no part of;
  this side compares like for like;
- baseline: ``transformers.Trainer.hyperparameter_search(backend="optuna")`` with a
  ``model_init`` that reloads the base model and applies LoRA every trial (as the API
  requires); ``hp_space`` returns configuration ``i``'s training arguments, ``model_init``
  its LoRA settings. The Trainer's evaluation measures a loss but generates nothing, so its
  ``evaluate()`` adds answers and scores them (``score_answers``, the same BERTScore encoder,
  built once). The answers come from the library's standard batched generation: the
  tokenizer pads the prompts on the left, ``model.generate`` with a KV cache and the same
  decoding settings (``generation_kwargs``: stop at end of turn, same limits), on the PEFT
  model as it trained;
- baseline with the project's evaluation (``--baselines both``): the same, but generating
  with ``study.finetune.evaluation.generate_answers`` (shared prompt prefix, adapter folded into the
  weights while decoding). It isolates what the rest of a trial gains: training, the eval
  loss, no reloading.

The sides take turns trial by trial (the order rotates), so load from other processes falls
on all alike; a baseline therefore calls ``hyperparameter_search(n_trials=1)`` once per
configuration, which costs it nothing extra: every one of its trials rebuilds the model
anyway. A side's time is its set-up (loading, tokenising, building the Trainer) plus its
trials. Reports each, the ratio project / baseline (goal: at most 0.6) and the per-trial
wall and CPU seconds.
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


def configurations(n: int, train: int, val: int, new_tokens: int, membership: bool = True) -> list[Any]:
    """``n`` fixed trial configurations that differ in the LoRA adapter and the learning rate.

    ``membership`` False turns the trial's membership pass off (``privacy.membership_pairs: 0``),
    which a study runs by default and the baseline has no counterpart of.
    """
    return [
        common.trial_config(
            data={"max_train_examples": train, "max_val_examples": val, "max_seq_length": 192},
            privacy={} if membership else {"membership_pairs": 0},
            lora={"rank": RANKS[i % 5], "alpha": 2.0 * RANKS[i % 5], "dropout": 0.05, "target_modules": TARGETS[i % 2]},
            training={"epochs": 1, "batch_size": 4, "learning_rate": LEARNING_RATES[i % 3], "scheduler": "linear"},
            decoding={"do_sample": False, "max_new_tokens": new_tokens, "batch_size": 16},
        )
        for i in range(n)
    ]


class ProjectSide:
    """This project's way: one Workbench for the process, ``run_trial`` per Optuna trial."""

    def __init__(self, configs: list[Any], name: str = "project (Workbench + run_trial)") -> None:
        self.configs, self.name = configs, name

    def set_up(self) -> None:
        import optuna

        from study.finetune.memory import freeze_loaded
        from study.finetune.workbench import Workbench

        self.bench = Workbench.load(self.configs[0])
        freeze_loaded()  # as a study's process does
        self.study = optuna.create_study(direction="maximize")

    def trial(self, index: int) -> float:
        from study.finetune.trial import run_trial

        scores: list[float] = []

        def objective(trial: Any) -> float:
            scores.append(run_trial(self.configs[index], self.bench).metrics["rougeL"])
            return scores[-1]

        self.study.optimize(objective, n_trials=1)
        return scores[0]

    def close(self) -> None:
        pass


def standard_generate(model: Any, tokenizer: Any, prompts: list[list[int]], decoding: Any, seed: int) -> list[str]:
    """Answers the way the transformers documentation batches them: left padding, ``model.generate``, KV cache.

    ``tokenizer`` pads on the left; decoding settings (limits, end-of-turn stop, sampling)
    are the project's, so both sides answer under the same rules.
    """
    import torch

    from study.finetune.evaluation import generation_kwargs

    kwargs = generation_kwargs(decoding, tokenizer)
    answers: list[str] = []
    model.eval()
    torch.manual_seed(seed)
    with torch.inference_mode():
        for start in range(0, len(prompts), decoding.batch_size):
            batch = tokenizer.pad({"input_ids": prompts[start : start + decoding.batch_size]}, return_tensors="pt")
            output = model.generate(**batch, use_cache=True, **kwargs)
            new_tokens = output[:, batch["input_ids"].shape[1] :]
            answers += [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
    return answers


def project_generate(model: Any, tokenizer: Any, prompts: list[list[int]], decoding: Any, seed: int) -> list[str]:
    from study.finetune.evaluation import generate_answers

    return generate_answers(model, tokenizer, prompts, decoding, seed=seed)


class BaselineSide:
    """``transformers.Trainer.hyperparameter_search`` with a ``model_init`` that reloads the model."""

    def __init__(self, configs: list[Any], project_evaluation: bool = False) -> None:
        self.configs = configs
        self.generate = project_generate if project_evaluation else standard_generate
        self.name = "Trainer.hyperparameter_search" + (" + project's evaluation" if project_evaluation else "")
        self.index = 0
        self._out = tempfile.TemporaryDirectory(prefix="bench-hp-")

    def set_up(self) -> None:
        from datasets import Dataset
        from transformers import AutoTokenizer, DataCollatorForSeq2Seq, TrainingArguments
        from transformers.trainer_callback import PrinterCallback

        import objectives
        from study.finetune.data import encode_example, encode_prompt, load_splits
        from study.finetune.gguf import prepare_default_model

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

        from study.finetune.model import peft_lora_config

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

        from study.finetune.evaluation import score_answers

        side = self

        class GenerativeEvalTrainer(Trainer):
            """``evaluate`` = the Trainer's eval loss + generated answers scored like the project's trials."""

            def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
                start = time.perf_counter()
                metrics = super().evaluate(*args, **kwargs)
                cfg = side.configs[side.index]
                answers = side.generate(self.model, side.gen_tokenizer, side.prompts, cfg.decoding, cfg.training.seed)
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
    p.add_argument("--baselines", choices=["standard", "both"], default="standard",
                   help="standard: the Trainer with the library's batched generation (default); both: also the "
                        "Trainer given the project's evaluation")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    n = args.configs or (3 if args.quick else 10)
    train, val, new_tokens = (4, 4, 12) if args.quick else (8, 8, 24)
    configs = configurations(n, train, val, new_tokens)
    sides: dict[str, Any] = {
        "project": ProjectSide(configs),
        "project_no_membership": ProjectSide(configurations(n, train, val, new_tokens, membership=False),
                                             "project without its membership pass (privacy.membership_pairs: 0)"),
        "baseline": BaselineSide(configs),
    }
    if args.baselines == "both":
        sides["baseline_project_eval"] = BaselineSide(configs, project_evaluation=True)
    record: dict[str, dict[str, Any]] = {k: {"wall": [], "cpu": [], "rougeL": []} for k in sides}

    # Import the heavy libraries before any timing, so the side set up first does not pay for both.
    import bert_score  # noqa: F401
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import trl  # noqa: F401

    import study.finetune.trial  # noqa: F401

    load_before = common.load_avg()
    for key, side in sides.items():
        common.progress(f"{NAME}: set-up of {side.name} ...")
        with common.timed() as t:
            side.set_up()
        record[key]["setup_wall"], record[key]["setup_cpu"] = t.wall, t.cpu
    keys = list(sides)
    for i in range(n):
        for key in keys[i % len(keys):] + keys[: i % len(keys)]:  # each side goes first in turn
            with common.timed() as t:
                score = sides[key].trial(i)
            for field, value in (("wall", t.wall), ("cpu", t.cpu), ("rougeL", score)):
                record[key][field].append(value)
            common.progress(f"  trial {i} {key:<21}: rougeL {score:.3f}  {t.wall:5.1f} s  {t.cpu:5.1f} CPU s")
    for key in keys:
        sides[key].close()

    def total(key: str, kind: str) -> float:
        return record[key][f"setup_{kind}"] + sum(record[key][kind])

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    ratios = {key: common.ratio(total("project", "wall"), total(key, "wall")) for key in keys if key.startswith("baseline")}
    ratio = ratios["baseline"]
    figures: dict[str, Any] = {
        "configs": n,
        "train_examples": train,
        "val_questions": val,
        "max_new_tokens": new_tokens,
        "ratio": ratio,
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
        "cpu_ratio": common.ratio(total("project", "cpu"), total("baseline", "cpu")),
        "ratio_without_membership": common.ratio(total("project_no_membership", "wall"), total("baseline", "wall")),
    }
    if "baseline_project_eval" in ratios:
        figures["ratio_to_baseline_with_project_evaluation"] = ratios["baseline_project_eval"]
    for key, r in record.items():
        figures.update({
            f"{key}_seconds": total(key, "wall"),
            f"{key}_set_up_seconds": r["setup_wall"],
            f"{key}_mean_trial_seconds": mean(r["wall"]),
            f"{key}_mean_trial_cpu_seconds": mean(r["cpu"]),
            f"{key}_trial_seconds": r["wall"],
            f"{key}_mean_rougeL": mean(r["rougeL"]),
        })
    figures.update(load_avg_before=load_before, load_avg_after=common.load_avg())
    rows = [
        [sides[k].name, total(k, "wall"), r["setup_wall"], mean(r["wall"]), total(k, "cpu"), mean(r["cpu"]),
         mean(r["rougeL"])]
        for k, r in record.items()
    ]
    body = common.table(["side", "wall s", "set-up s", "s / trial", "CPU s", "CPU s / trial", "mean rougeL"], rows)
    body += (f"\nproject / baseline: wall time {ratio:.3f} (goal <= {GOAL_RATIO}), CPU time {figures['cpu_ratio']:.3f}; "
             f"without the membership pass (like for like) {figures['ratio_without_membership']:.3f}")
    if "baseline_project_eval" in ratios:
        body += f"\nproject / baseline given the project's evaluation: wall time {ratios['baseline_project_eval']:.3f}"
    notes = [
        "set-up: loading model (project) or tokenizer, data and BERTScore encoder (all), and for a baseline "
        "building the Trainer, which calls model_init once; libraries are imported before any timing",
        "a baseline trial includes model_init (reloading the 135M-parameter model from safetensors and wrapping it "
        "with LoRA), the Trainer's per-trial set-up, training, eval loss, generation and scoring",
        "the baseline generates with transformers' batched generate (left padding, KV cache) on the PEFT model, "
        "under the project's decoding settings; it scores with the same metrics and the same kind of BERTScore "
        "encoder",
        "CPU seconds count this process's threads; wall above CPU (per thread) is time lost to other processes",
    ]
    common.report(NAME, "quick" if args.quick else "default",
                  "project trials vs Trainer.hyperparameter_search, same configurations, interleaved", body,
                  figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
