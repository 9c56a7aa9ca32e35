"""Claims against the base model compare it answering with the trial's own decoding and prompt.

Seeded cases where decoding alone explains a gain (the default study's finding): the gain against
the base trial (default decoding) is significant, against the base with the same decoding it is
not, and the note says "(decoding only)". With a real fine-tuning gain on top the claim holds.
"""

from __future__ import annotations

import random
from dataclasses import replace

from pathlib import Path

import pytest
from optuna.trial import TrialState
from stubs import BASE_ROUGE, StubTrials, make_runner
from tiny import tiny_config

from study.core import keys
from study.finetune.fair_base import BaseAnswers
from study.finetune.workbench import Workbench
from study.optimize.dashboard import trial_note


class DecodingTrials(StubTrials):
    """Trials that gain ``gain`` over the base trial; the base with their decoding gains ``decoding`` of it."""

    def __init__(self, gain: float, decoding: float) -> None:
        super().__init__(gain=gain)
        self.decoding = decoding

    def __call__(self, cfg, monitor):
        result = super().__call__(cfg, monitor)
        # Deterministic per-question noise so that the paired intervals are not degenerate.
        noise = [0.01 * ((i * 7) % 5 - 2) for i in range(len(BASE_ROUGE))]
        result.base_per_question = {"rougeL": [r + self.decoding + n for r, n in zip(BASE_ROUGE, noise)],
                                "bertscore_f1": [0.5] * len(BASE_ROUGE)}
        return result


def _finished(runner):
    return [t for t in runner.study.get_trials() if t.state == TrialState.COMPLETE and not t.user_attrs.get("reference")]


def test_a_gain_that_is_only_decoding_is_not_claimed(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, DecodingTrials(gain=0.2, decoding=0.2))
    runner.run(2)
    for trial in _finished(runner):
        fair = trial.user_attrs[keys.GAIN_VS_BASE]["rougeL"]
        loose = trial.user_attrs[keys.GAIN_VS_BASE_DEFAULT]["rougeL"]
        assert trial.user_attrs[keys.GAIN_BASIS] == keys.SAME_DECODING
        assert loose["significant"] and loose["gain"] == pytest.approx(0.2)
        assert not fair["significant"] and abs(fair["gain"]) < 0.01
        note = trial_note(trial, ["rougeL"], runner.splits.val, "s")
        assert "gain vs base, same decoding" in note and "(decoding only)" in note and "optimistic" in note


def test_a_fine_tuning_gain_beyond_decoding_is_claimed_at_its_own_size(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, DecodingTrials(gain=0.2, decoding=0.05))
    runner.run(2)
    for trial in _finished(runner):
        fair = trial.user_attrs[keys.GAIN_VS_BASE]["rougeL"]
        assert fair["significant"] and fair["gain"] == pytest.approx(0.15, abs=0.01)
        assert "(decoding only)" not in trial_note(trial, ["rougeL"], runner.splits.val, "s")


def test_base_answers_are_generated_once_per_inference_setting(tiny_model_dir, qa_file):
    cfg = tiny_config(tiny_model_dir, qa_file)
    bench = Workbench.load(cfg, bertscore=False)
    answers = BaseAnswers(bench)
    first = answers(cfg)
    again = answers(replace(cfg, lora=replace(cfg.lora, rank=8), training=replace(cfg.training, learning_rate=1e-3)))
    assert again is first and len(answers) == 1  # fine-tuning settings do not change the base's answers
    shorter = answers(replace(cfg, decoding=replace(cfg.decoding, max_new_tokens=2)))
    assert len(answers) == 2
    assert len(shorter.predictions) == len(first.predictions) == len(bench.splits.val)
    assert all(len(s.split()) <= len(f.split()) + 1 for s, f in zip(shorter.predictions, first.predictions))
    assert set(first.per_question) >= {"rougeL", "token_f1", "chrf", "eval_loss_stats"}


class DecodingRuns:
    """Confirmation runs where the base gains 0.05 per extra 12 answer tokens and fine-tuning adds ``gain``."""

    def __init__(self, gain: float) -> None:
        self.gain, self.base_decodings = gain, []

    def __call__(self, cfg, base: bool):
        decoding = 0.05 * (cfg.decoding.max_new_tokens - 12) / 12
        if base:
            self.base_decodings.append(cfg.decoding.max_new_tokens)
        rng = random.Random(cfg.training.seed)  # seeded: the outcome is fixed, the differences are not constant
        noise = [0.0 if base else rng.gauss(0, 0.02) for _ in BASE_ROUGE]
        shift = decoding + (0.0 if base else self.gain)
        return StubTrials.result([r + shift + n for r, n in zip(BASE_ROUGE, noise)], 0.0 if base else 1.0)


def _decoding_study(url, qa_file, tmp_path, name="s"):
    import search_spaces
    from objectives import parse_objectives
    from search_spaces import load_space
    from stubs import StubRunner

    from study.core.config import DataConfig
    from study.finetune.data import load_splits
    from study.optimize.samplers import make_sampler
    from study.optimize.storage import open_storage

    text = (Path(search_spaces.__file__).parent / "smoke.yaml").read_text()
    path = tmp_path / "decoding.yaml"
    path.write_text(text.replace("max_new_tokens: 12 ", "max_new_tokens: {choices: [24, 36]} "))
    space = load_space(str(path))
    cfg = space.config({n: d.values[0] if hasattr(d, "values") else d.low for n, d in space.dimensions.items()})
    runner = StubRunner(space=space, settings=space.settings, objectives=parse_objectives(space.settings.objectives),
                        storage=open_storage(url, heartbeat_seconds=60), study_name=name,
                        sampler=make_sampler("random", 0, None), splits=load_splits(DataConfig(path=str(qa_file))),
                        base_cfg=cfg, show_progress=False, trial_fn=StubTrials(gain=0.1))
    runner.run(6)
    return runner


@pytest.mark.parametrize("gain, claimed", [(0.0, False), (0.1, True)])
def test_confirmation_compares_with_the_base_answering_with_the_same_decoding(rdb_url, qa_file, tmp_path, gain, claimed):
    from study.optimize.confirmation import confirm

    runner = _decoding_study(rdb_url, qa_file, tmp_path)
    runs = DecodingRuns(gain)
    lines = confirm(runner.study, runner.storage, top=3, seeds=2, say=lambda line: None, run_fn=runs)
    chosen = [int(n) for n in runner.study.user_attrs["confirmed"]]
    decodings = {runner.study.trials[n].params["decoding.max_new_tokens"] for n in chosen}
    assert sorted(runs.base_decodings) == sorted(decodings)  # the base once per decoding, none at the default
    for entry in runner.study.user_attrs["confirmed"].values():
        g = entry["rougeL"]["gain"]
        assert g["against"] == keys.SAME_DECODING
        assert g["significant"] is claimed and g["gain"] == pytest.approx(gain, abs=0.01)
    said = " ".join(line for line in lines if line.startswith("rougeL:"))
    assert ("beats the base model on rougeL by" in said) is claimed and "optimistic" in said
    assert ("no configuration beats the base model" in said) is not claimed


class HeldOutRuns(DecodingRuns):
    """As DecodingRuns on validation; on the test split fine-tuning adds ``test_gain`` (the winner's curse)."""

    def __init__(self, gain: float, test_gain: float) -> None:
        super().__init__(gain)
        self.test_gain = test_gain

    def __call__(self, cfg, base: bool):
        result = super().__call__(cfg, base)
        rng = random.Random(cfg.training.seed + 7)
        decoding = 0.05 * (cfg.decoding.max_new_tokens - 12) / 12
        shift = decoding + (0.0 if base else self.test_gain)
        result.test_per_question = {"rougeL": [r + shift + (0.0 if base else rng.gauss(0, 0.02)) for r in BASE_ROUGE]}
        return result


def test_the_confirmed_claim_is_made_on_the_test_split_against_the_same_decoding(rdb_url, qa_file, tmp_path):
    from study.optimize.confirmation import confirm

    runner = _decoding_study(rdb_url, qa_file, tmp_path)
    lines = confirm(runner.study, runner.storage, top=2, seeds=2, say=lambda line: None,
                    run_fn=HeldOutRuns(gain=0.1, test_gain=0.0))
    validation = [line for line in lines if line.startswith("rougeL: trial") and "beats the base model on rougeL by" in line]
    held_out = [line for line in lines if "test questions that chose nothing" in line]
    assert validation and "optimistic" in validation[0]  # a validation gain: claimed, labelled optimistic
    assert len(held_out) == 1 and "beats the base model" not in held_out[0]
    for entry in runner.study.user_attrs["confirmed"].values():
        assert not entry["rougeL"]["test_gain"]["significant"]

    runner2 = _decoding_study(rdb_url, qa_file, tmp_path, name="s2")  # another study in the same storage
    lines = confirm(runner2.study, runner2.storage, top=2, seeds=2, say=lambda line: None,
                    run_fn=HeldOutRuns(gain=0.1, test_gain=0.1))
    assert any("beats the base model on rougeL by" in line and "test questions" in line for line in lines)
    best = max(runner2.study.user_attrs["confirmed"].values(), key=lambda t: t["rougeL"]["mean"])
    assert best["rougeL"]["test_gain"]["significant"]
    assert best["rougeL"]["test_gain"]["gain"] == pytest.approx(0.1, abs=0.01)


def test_a_trial_that_answers_as_the_base_trial_reuses_its_scores(tiny_model_dir, qa_file):
    cfg = tiny_config(tiny_model_dir, qa_file)
    answers = BaseAnswers(Workbench.load(cfg, bertscore=False))
    answers.remember(cfg, {"rougeL": [0.5, 0.25]})
    assert answers(replace(cfg, lora=replace(cfg.lora, rank=8))).per_question == {"rougeL": [0.5, 0.25]}
    assert len(answers) == 1
