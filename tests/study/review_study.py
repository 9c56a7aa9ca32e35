"""A small scored study for the review tests: the base model and three fine-tunes, with stored answers and scores.

Trial 1 answers every question with the reference itself (a rater calls it correct), trial 2
and the base model with something else; ROUGE-L per question follows that, so the raters'
verdicts and ROUGE-L agree, and answer_words does not.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna

from study.core import keys
from study.core.config import DataConfig, DecodingConfig, ModelConfig, TrialConfig
from study.finetune.data import load_splits


def config(qa_file: Path, decoding: DecodingConfig | None = None, model: Path | None = None) -> TrialConfig:
    cfg = TrialConfig(data=DataConfig(path=str(qa_file), val_fraction=0.3, test_fraction=0.2))
    if model is not None:
        cfg = dataclasses.replace(cfg, model=ModelConfig(name=str(model), device="cpu"))
    return dataclasses.replace(cfg, decoding=decoding or DecodingConfig())


def answers_for(quality: str, references: list[str]) -> list[str]:
    if quality == "good":
        return list(references)
    if quality == "base":
        return [f"I am not sure, perhaps {i} things." for i in range(len(references))]
    return [f"The heart has {i + 5} parts." for i in range(len(references))]


def add_trial(study: optuna.Study, cfg: TrialConfig, quality: str, base: bool = False) -> int:
    references = [p.answer for p in load_splits(cfg.data).val]
    answers = answers_for(quality, references)
    rouge = [1.0 if quality == "good" else 0.1 + 0.01 * i for i in range(len(answers))]
    words = [float(len(a.split())) for a in answers]
    trial = study.ask()
    if base:
        trial.set_user_attr(keys.REFERENCE, "base")
    trial.set_user_attr(keys.CONFIG, cfg.to_dict())
    trial.set_user_attr(keys.ANSWERS, answers)
    trial.set_user_attr(keys.PER_QUESTION, {"rougeL": rouge, "answer_words": words})
    trial.set_user_attr("rougeL", sum(rouge) / len(rouge))
    trial.set_user_attr(keys.METRIC_NAMES, ["rougeL"])
    study.tell(trial, [sum(rouge) / len(rouge), sum(words) / len(words) + trial.number])
    return trial.number


def make_study(url: str, qa_file: Path, name: str = "s", other_decoding: bool = False,
               model: Path | None = None) -> optuna.Study:
    """Trial 0 the base model, 1 good, 2 and 3 poor; with ``other_decoding`` trial 3 samples at temperature 0.7.

    ``model``: the model directory the trials name (the default: the bundled model, never loaded here)."""
    study = optuna.create_study(study_name=name, storage=url, directions=["maximize", "minimize"])
    study.set_metric_names(["rougeL", "answer_words"])
    add_trial(study, config(qa_file, model=model), "base", base=True)
    add_trial(study, config(qa_file, model=model), "good")
    add_trial(study, config(qa_file, model=model), "poor")
    sampled = DecodingConfig(do_sample=True, temperature=0.7, max_new_tokens=8) if other_decoding else None
    add_trial(study, config(qa_file, sampled, model=model), "poor")
    return study
