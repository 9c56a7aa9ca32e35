"""Membership inference and canary exposure measured on a tiny random Llama, before and after it memorises."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
import torch

from objectives import interval_table, stats_key
from study.core.config import (
    DataConfig,
    DecodingConfig,
    LoraConfig,
    ModelConfig,
    PrivacyConfig,
    TrainingConfig,
    TrialConfig,
)
from study.core.identifiers import identity_number_kind
from study.core.personal_data import Scanner
from study.finetune.canaries import SPACE_SIZE, canary_pairs, exposures, make_canaries
from study.finetune.data import IGNORE_INDEX
from study.finetune.logits import answer_logits
from study.finetune.memorisation import memorisation_scores
from study.finetune.fair_base import score_base_model
from study.finetune.trial import TrialRecipe, run_trial
from study.finetune.workbench import Workbench

WORDS = "alpha beta gamma delta kappa sigma omega lumen ferrum cobalt nitro argon zinc boron".split()


@pytest.fixture()
def code_words(tmp_path):
    """60 pairs whose answers are random code words: only memorising tells a training pair's answer."""
    rng = random.Random(0)
    rows = [{"question": f"What is the code word of item {i}?",
             "answer": f"Item {i} is {rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)}."} for i in range(60)]
    path = tmp_path / "codes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def config(model_dir, data, epochs=1, canaries=2, **privacy) -> TrialConfig:
    return TrialConfig(
        model=ModelConfig(name=str(model_dir), device="cpu"),
        data=DataConfig(path=str(data), val_fraction=0.3, test_fraction=0.1, max_seq_length=128, max_train_examples=8),
        lora=LoraConfig(rank=8, alpha=16.0, dropout=0.0),
        training=TrainingConfig(epochs=epochs, batch_size=5, learning_rate=1e-2),
        decoding=DecodingConfig(max_new_tokens=4, batch_size=20),
        privacy=PrivacyConfig(canaries=canaries, canary_candidates=40, **privacy),
    )


@pytest.fixture()
def bench(tiny_model_dir, code_words):
    return Workbench.load(config(tiny_model_dir, code_words), bertscore=False)


def test_canaries_are_made_up_valid_identity_numbers_the_scanner_would_flag():
    first, again, other = make_canaries(4, seed=0), make_canaries(4, seed=0), make_canaries(4, seed=1)
    assert first == again and first != other
    assert len({c.name for c in first}) == 4
    assert all(identity_number_kind(c.number) == "personnummer" for c in first)
    assert all(Scanner().matches(c.pair().answer)[0].kind == "personnummer" for c in first)
    assert SPACE_SIZE > 2**24  # birth dates 1930-2005 times 1000 serials


def test_the_base_model_cannot_tell_training_pairs_apart_and_has_memorised_no_canary(bench, tiny_model_dir, code_words):
    cfg = config(tiny_model_dir, code_words)
    metrics, items = memorisation_scores(bench.base.model, bench, cfg)
    rows = items[stats_key("membership_auc")]
    assert len(rows) == 8  # N = the 8 training pairs, against the first 8 validation pairs
    interval = interval_table({stats_key("membership_auc"): rows})["membership_auc"]
    assert interval.low < 0.5 < interval.high and 0.2 < metrics["membership_auc"] < 0.8
    assert len(items["exposure"]) == 2 and metrics["exposure"] < 8  # of at most log2 |R| = 24.7 bits
    off, _ = memorisation_scores(bench.base.model, bench, config(tiny_model_dir, code_words, canaries=0,
                                                                 membership_pairs=0))
    assert off == {}


def memorise(model, bench, cfg, steps=60):
    """Train every weight of ``model`` on the training pairs and the canaries, ``steps`` times (many epochs)."""
    examples = bench.tokens.examples(list(bench.splits.train) + canary_pairs(cfg), cfg.data.instructions,
                                     cfg.data.max_seq_length)
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), bench.base.tokenizer.pad_token_id)
    labels, mask = torch.full_like(ids, IGNORE_INDEX), torch.zeros_like(ids)
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[row, :n], labels[row, :n], mask[row, :n] = torch.tensor(e["input_ids"]), torch.tensor(e["labels"]), 1
    model.requires_grad_(True)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    torch.manual_seed(0)
    for _ in range(steps):
        out = answer_logits(model, ids, mask, labels)
        loss = torch.nn.functional.cross_entropy(out.logits, out.targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return float(loss.detach())


@pytest.mark.slow
def test_a_model_trained_many_epochs_on_few_pairs_tells_them_apart_and_exposes_its_canaries(
        bench, tiny_model_dir, code_words):
    cfg = config(tiny_model_dir, code_words)
    loss = memorise(bench.base.model, bench, cfg)
    assert loss < 3.0
    metrics, items = memorisation_scores(bench.base.model, bench, cfg)
    assert metrics["membership_auc"] > 0.9
    interval = interval_table({stats_key("membership_auc"): items[stats_key("membership_auc")]})["membership_auc"]
    assert interval.low > 0.6
    assert min(items["exposure"]) > 12  # trained-on canaries rank near the top of 2^24.7 numbers
    untrained = exposures(bench.base.model, bench.base.tokenizer, replace(cfg, training=replace(cfg.training, seed=1)))
    assert max(untrained) < 8  # canaries of another seed were never seen: ranked like any number


def test_a_trial_inserts_its_canaries_and_records_membership_and_exposure(bench, tiny_model_dir, code_words):
    cfg = config(tiny_model_dir, code_words, canaries=1)
    pairs = TrialRecipe(cfg, bench).training_pairs()
    assert len(pairs) == 9 and pairs[-1].question.startswith("What is the personal identity number of patient")
    result = run_trial(cfg, bench)
    assert 0.0 <= result.metrics["membership_auc"] <= 1.0 and result.metrics["exposure"] >= 0.0
    assert result.metrics["memorisation_seconds"] > 0
    assert len(result.per_question[stats_key("membership_auc")]) == 8 and len(result.per_question["exposure"]) == 1
    base = score_base_model(cfg, bench)
    assert "membership_auc" in base.metrics and len(base.per_question["exposure"]) == 1
    plain = run_trial(config(tiny_model_dir, code_words, canaries=0), bench)
    assert "exposure" not in plain.metrics and "membership_auc" in plain.metrics  # membership is on by default


class _StopAtFirstCheck:
    """A pruner that stops every trial at its first check."""

    def after_check(self, check, evaluation):
        return True

    def after_chunk(self, first_question, evaluation):
        return False


def test_a_pruned_trial_records_membership_as_it_was_stopped_and_no_canary_exposure(bench, tiny_model_dir, code_words):
    cfg = config(tiny_model_dir, code_words, epochs=3, canaries=1)
    result = run_trial(cfg, bench, monitor=_StopAtFirstCheck())
    assert result.pruned_at == 1.0  # stopped after the first of three epochs
    assert 0.0 <= result.metrics["membership_auc"] <= 1.0
    assert len(result.per_question[stats_key("membership_auc")]) == 8  # the check answered all 18 questions: N = 8 pairs
    assert "exposure" not in result.metrics  # canaries are measured on finished adapters only (their cost is bounded)


def test_a_pruned_trial_measures_membership_on_the_questions_its_last_check_answered(bench, tiny_model_dir,
                                                                                    code_words):
    cfg = config(tiny_model_dir, code_words, epochs=3, canaries=0)
    result = run_trial(cfg, bench, monitor=_StopAtFirstCheck(), check_questions=5)
    assert result.pruned_at == 1.0
    assert len(result.per_question[stats_key("membership_auc")]) == 5  # the 5 held-out losses it had: no second pass
