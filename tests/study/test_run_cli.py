"""The run command on bad input: one line naming the problem, exit code 2, storage untouched."""

from __future__ import annotations

import json
import subprocess
import sys

import optuna
import pytest

from study.run import main


def studies_in(url: str) -> list[str]:
    return [s.study_name for s in optuna.get_all_study_summaries(url, include_best_trial=False)]


def run_cli(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.fixture()
def storage(tmp_path):
    return f"sqlite:///{tmp_path / 'bad.db'}"


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--sampler", "annealing"], "--sampler got 'annealing'; valid: tpe"),
        (["--pruner", "sometimes"], "--pruner got 'sometimes'"),
        (["--objectives", "rougeL:max,happiness:max"], "unknown metric 'happiness'"),
        (["--objectives", "rougeL:up"], "direction must be max or min"),
        (["--pruning-metric", "vibes"], "unknown metric 'vibes'"),
        (["--space", "nonexistent"], "no such search space"),
        (["--model", "/no/such/model"], "/no/such/model: no such model directory"),
        (["--data", "/no/such/file.jsonl"], "/no/such/file.jsonl: data file not found"),
        (["--set", "lora.rank=0"], "'lora.rank' must be >= 1"),
        (["--set", "nonsense"], "expected SECTION.KEY=VALUE"),
        (["--trials", "0"], "--trials must be >= 1"),
    ],
)
def test_bad_flags_stop_with_one_line_and_no_study(capsys, storage, extra, expected):
    code, err = run_cli(["--space", "smoke", "--storage", storage, *extra], capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error:") and expected in err[0], err
    assert studies_in(storage) == []


def test_bad_data_line_is_named_by_file_and_line(capsys, storage, tmp_path):
    data = write(tmp_path / "qa.jsonl", json.dumps({"question": "q?", "answer": "a"}) + "\n{oops\n")
    code, err = run_cli(["--space", "smoke", "--storage", storage, "--data", data], capsys)
    assert code == 2 and f"{data}:2: not valid JSON" in err[0]
    assert studies_in(storage) == []


def test_invalid_space_file_reports_every_key(capsys, storage, tmp_path):
    space = write(tmp_path / "space.yaml", "lora:\n  rank: {low: 64, high: 8}\ntraining:\n  lr: 0.1\n")
    code, err = run_cli(["--space", space, "--storage", storage], capsys)
    assert code == 2 and len(err) == 1
    assert "space.yaml" in err[0] and "lora.rank" in err[0] and "training.lr" in err[0]


def test_model_directory_without_config_is_refused(capsys, storage, tmp_path):
    code, err = run_cli(["--space", "smoke", "--storage", storage, "--model", str(tmp_path)], capsys)
    assert code == 2 and "no config.json" in err[0]


def test_malformed_storage_url(capsys):
    code, err = run_cli(["--space", "smoke", "--storage", "notaurl"], capsys)
    assert code == 2 and "not a storage URL" in err[0]
    code, err = run_cli(["--space", "smoke", "--storage", "nosuchdb://x/y"], capsys)
    assert code == 2 and "cannot open" in err[0]


def test_existing_study_with_other_objectives_is_left_unchanged(capsys, storage):
    study = optuna.create_study(study_name="smoke", storage=storage, directions=["maximize"])
    study.set_metric_names(["bleu"])
    code, err = run_cli(["--space", "smoke", "--storage", storage], capsys)
    assert code == 2 and "exists with objectives bleu:max" in err[0]
    assert studies_in(storage) == ["smoke"]
    assert len(optuna.load_study(study_name="smoke", storage=storage).trials) == 0


def test_a_subprocess_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "smoke", "--sampler", "bogus", "--storage", f"sqlite:///{tmp_path}/x.db"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
