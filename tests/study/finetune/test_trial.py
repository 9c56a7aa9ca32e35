from __future__ import annotations

import pytest
import torch

from study.core.config import DecodingConfig
from study.finetune.evaluation import Evaluation, generate_answers
from study.finetune.trial import run_trial
from study.finetune.workbench import Workbench
from tiny import tiny_config


@pytest.fixture()
def bench(tiny_model_dir, qa_file):
    return Workbench.load(tiny_config(tiny_model_dir, qa_file), bertscore=False)


class Recorder:
    def __init__(self, stop_at_epoch: int | None = None) -> None:
        self.epochs: list[tuple[int, Evaluation]] = []
        self.chunks: list[int] = []
        self.stop_at_epoch = stop_at_epoch

    def after_check(self, check: int, evaluation: Evaluation) -> bool:
        self.epochs.append((check, evaluation))
        return check == self.stop_at_epoch

    def after_chunk(self, first_question: int, evaluation: Evaluation) -> bool:
        self.chunks.append(first_question)
        return False


def test_trial_scores_validation_every_epoch_and_leaves_base_weights_untouched(bench, tiny_model_dir, qa_file):
    before = {k: v.clone() for k, v in bench.base.model.state_dict().items()}
    recorder = Recorder()
    result = run_trial(tiny_config(tiny_model_dir, qa_file), bench, recorder)
    assert [e for e, _ in recorder.epochs] == [1, 2]
    for key in ("rougeL", "bleu", "token_f1", "exact_match", "eval_loss", "train_loss", "train_seconds", "answer_words"):
        assert key in result.metrics, key
    assert len(result.predictions) == len(bench.splits.val) and result.pruned_at is None
    after = bench.base.model.state_dict()
    assert after.keys() == before.keys()  # no LoRA layers left behind
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_same_config_gives_same_result_and_adapter_changes_answers_loss(bench, tiny_model_dir, qa_file):
    cfg = tiny_config(tiny_model_dir, qa_file)
    first, second = run_trial(cfg, bench), run_trial(cfg, bench)
    assert first.metrics["eval_loss"] == pytest.approx(second.metrics["eval_loss"], rel=1e-5)
    assert first.predictions == second.predictions
    untrained = run_trial(tiny_config(tiny_model_dir, qa_file, learning_rate=1e-8, epochs=1), bench)
    assert first.metrics["eval_loss"] < untrained.metrics["eval_loss"]


def test_monitor_stops_training_and_the_trial_reports_where(bench, tiny_model_dir, qa_file):
    recorder = Recorder(stop_at_epoch=1)
    result = run_trial(tiny_config(tiny_model_dir, qa_file, epochs=3), bench, recorder)
    assert result.pruned_at == 1
    assert [e for e, _ in recorder.epochs] == [1]


def test_checks_within_epochs_measure_loss_and_can_stop_mid_epoch(bench, tiny_model_dir, qa_file):
    # 12 training pairs in batches of 4: 3 steps an epoch, so 2 checks an epoch fall after
    # steps 2 (2/3 of the epoch, past the half) and 3.
    recorder = Recorder()
    result = run_trial(tiny_config(tiny_model_dir, qa_file), bench, recorder, full_eval_every_check=False,
                       checks_per_epoch=2)
    assert [c for c, _ in recorder.epochs] == [1, 2, 3, 4]
    assert [h["epoch"] for h in result.history] == [0.5, 1, 1.5, 2]
    assert "rougeL" not in result.history[2] and "rougeL" in result.history[3]
    losses = [h["eval_loss"] for h in result.history]
    assert losses[-1] < losses[0]  # the checks see training progress

    stopped = run_trial(tiny_config(tiny_model_dir, qa_file), bench, Recorder(stop_at_epoch=1),
                        full_eval_every_check=False, checks_per_epoch=2)
    assert stopped.pruned_at == 0.5 and len(stopped.history) == 1


def test_checks_within_epochs_need_a_monitor(bench, tiny_model_dir, qa_file):
    result = run_trial(tiny_config(tiny_model_dir, qa_file), bench, None, checks_per_epoch=3)
    assert [h["epoch"] for h in result.history] == [1, 2]


def test_loss_only_epochs_skip_generation_until_the_last(bench, tiny_model_dir, qa_file):
    recorder = Recorder()
    result = run_trial(tiny_config(tiny_model_dir, qa_file), bench, recorder, full_eval_every_check=False)
    assert set(result.history[0]) == {"eval_loss", "eval_seconds", "epoch"}
    assert "rougeL" in result.history[1]


def test_chunked_evaluation_reports_each_chunk(bench, tiny_model_dir, qa_file):
    recorder = Recorder()
    result = run_trial(tiny_config(tiny_model_dir, qa_file), bench, recorder, eval_chunks=2)
    assert recorder.epochs == []
    assert recorder.chunks == [0, 2]  # 4 validation questions in chunks of 2
    assert len(result.predictions) == len(bench.splits.val)


def test_batched_generation_equals_one_at_a_time(bench):
    prompts = bench.tokens.prompts(list(bench.splits.val) + list(bench.splits.train[:5]), "Be brief.")
    model, tok = bench.base.model, bench.base.tokenizer
    batched = generate_answers(model, tok, prompts, DecodingConfig(max_new_tokens=8, batch_size=9))
    single = generate_answers(model, tok, prompts, DecodingConfig(max_new_tokens=8, batch_size=1))
    assert batched == single


def test_forgetting_judge_and_continued_pretraining_are_scored_when_asked(bench, tiny_model_dir, qa_file):
    from dataclasses import replace

    from study.core.config import EvalConfig, PretrainConfig

    cfg = tiny_config(tiny_model_dir, qa_file, epochs=1)
    cfg = replace(cfg, evaluation=EvalConfig(general_questions=8, judge_heuristic=True),
                  pretraining=PretrainConfig(epochs=1, block_size=32, max_blocks=8))
    result = run_trial(cfg, bench)
    m = result.metrics
    assert 0.0 <= m["general_accuracy"] <= 1.0 and 0.0 <= m["general_accuracy_base"] <= 1.0
    assert m["forgetting"] == pytest.approx(m["general_accuracy_base"] - m["general_accuracy"])
    per_question = result.per_question["forgetting"]  # one value per quiz question: 1 forgotten, -1 learned, 0 the same
    assert len(per_question) == 8 and set(per_question) <= {-1.0, 0.0, 1.0}
    assert sum(per_question) / 8 == pytest.approx(m["forgetting"])
    assert 0.0 <= m["judge_score"] <= 1.0
    assert m["pretrain_seconds"] > 0 and m["train_seconds"] >= m["pretrain_seconds"]
    assert "pretrain_loss" in m


def test_chunked_bertscore_equals_scoring_all_answers_at_once(tiny_model_dir, qa_file):
    import objectives

    cfg = tiny_config(tiny_model_dir, qa_file, epochs=1)
    bench = Workbench.load(cfg, bertscore=True)
    result = run_trial(cfg, bench, Recorder(), eval_chunks=2)
    refs = [p.answer for p in bench.splits.val]
    whole = objectives.BertScorer()(result.predictions, refs)
    assert result.metrics["bertscore_f1"] == pytest.approx(whole, abs=1e-5)


def test_cheap_checks_answer_a_subset_with_short_answers_and_the_last_check_scores_all(bench, tiny_model_dir, qa_file):
    recorder = Recorder()
    cfg = tiny_config(tiny_model_dir, qa_file, epochs=3)
    result = run_trial(cfg, bench, recorder, check_questions=2, check_max_new_tokens=2)
    checks = [evaluation for _, evaluation in recorder.epochs]
    assert len(checks) == 3
    for early in checks[:-1]:  # a generated-answer metric at a bounded cost: 2 questions, 2 tokens
        assert len(early.predictions) == 2 and early.metrics["questions"] == 2
        assert all(len(bench.base.tokenizer(a, add_special_tokens=False)["input_ids"]) <= 3 for a in early.predictions)
        assert "rougeL" in early.metrics and len(early.per_question["rougeL"]) == 2
    assert len(checks[-1].predictions) == len(bench.splits.val) > 2
    assert len(result.predictions) == len(bench.splits.val)
