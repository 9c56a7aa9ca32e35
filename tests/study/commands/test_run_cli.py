"""The run command on bad input: one line naming the problem, exit code 2, storage untouched."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

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
        (["--checks-per-epoch", "0"], "--checks-per-epoch must be >= 1"),
        (["--set", "model.quantization=8bit"], "'model.quantization' got '8bit'"),
        (["--set", "model.quantization=4bit", "--device", "cpu"], "needs a CUDA GPU (bitsandbytes)"),
        (["--objectives", "rougeL:max,forgetting:min"],
         "metric 'forgetting' is produced only with 'evaluation.general_questions' set"),
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


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--total-trials", "0"], "--total-trials must be >= 1, got 0"),
        (["--workers", "0", "--heartbeat", "-1"], "2 problems: --workers must be >= 1, got 0; --heartbeat must be >= 1, got -1"),
        (["--max-consecutive-failures", "0"], "--max-consecutive-failures must be >= 1, got 0"),
        (["--workers", "2"], "SQLite locks up under several writers; use --storage postgresql://"),
    ],
)
def test_bad_worker_flags_stop_with_one_line_and_no_study(capsys, storage, extra, expected):
    code, err = run_cli(["--space", "smoke", "--storage", storage, *extra], capsys)
    assert code == 2
    assert len(err) == 1 and expected in err[0], err
    assert studies_in(storage) == []


def test_heartbeat_on_a_journal_storage_is_refused_not_ignored(capsys, tmp_path):
    journal = tmp_path / "study.log"
    code, err = run_cli(["--space", "smoke", "--storage", f"journal:///{journal}", "--heartbeat", "30"], capsys)
    assert code == 2
    assert len(err) == 1 and "journal storage keeps no heartbeats" in err[0], err
    assert not journal.exists() or studies_in(f"journal:///{journal}") == []


def test_unreachable_postgres_stops_with_one_line_without_the_password(capsys):
    code, err = run_cli(["--space", "smoke", "--storage", "postgresql://lora:secret@127.0.0.1:1/studies"], capsys)
    assert code == 2 and len(err) == 1
    assert "--storage postgresql://lora:***@127.0.0.1:1/studies: cannot open (" in err[0] and "secret" not in err[0]


def test_existing_study_with_other_objectives_is_refused_on_a_sql_server(capsys, rdb_url):
    optuna.create_study(study_name="smoke", storage=rdb_url, directions=["maximize"]).set_metric_names(["bleu"])
    code, err = run_cli(["--space", "smoke", "--storage", rdb_url], capsys)
    assert code == 2 and "exists with objectives bleu:max" in err[0]
    assert len(optuna.load_study(study_name="smoke", storage=rdb_url).trials) == 0


def always_failing(cfg, monitor):
    raise RuntimeError("cuda gone")


def test_consecutive_failures_stop_the_study_with_a_summary_and_one_line(capsys, storage, fake_model_dir, qa_file):
    code = main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
                 "--no-progress", "--trials", "9", "--max-consecutive-failures", "2"], trial_fn=always_failing)
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines() == [
        "stopped: 2 trials in a row failed (trials 0, 1; the last: RuntimeError: cuda gone); each reason "
        "is in the trial's fail_reason. Fix the cause and resume with the same command"
    ]
    assert "study 'smoke': 2 trials (0 complete, 0 pruned, 2 fail)" in out


def test_ctrl_c_says_how_to_resume(capsys, storage, fake_model_dir, qa_file):
    def interrupted(cfg, monitor):
        raise KeyboardInterrupt

    code = main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
                 "--no-progress"], trial_fn=interrupted)
    out, err = capsys.readouterr()
    assert code == 130
    assert "trial   0 FAIL      interrupted (Ctrl-C)" in out
    assert f"Resume with the same command (study 'smoke' in {storage})" in err


def test_rank_larger_than_the_model_is_refused(capsys, storage, tiny_model_dir):
    code, err = run_cli(["--space", "smoke", "--storage", storage, "--model", str(tiny_model_dir),
                         "--set", "lora.rank=128"], capsys)
    assert code == 2 and "'lora.rank' 128 is larger than the model's hidden size 64" in err[0]
    assert studies_in(storage) == []


def test_one_enormous_line_is_refused_by_line_number(capsys, storage, tmp_path):
    data = tmp_path / "huge.jsonl"
    data.write_text(json.dumps({"question": "q?", "answer": "a"}) + "\n"
                    + json.dumps({"question": "x" * 200_000, "answer": "a"}) + "\n")
    code, err = run_cli(["--space", "smoke", "--storage", storage, "--data", str(data)], capsys)
    assert code == 2 and "huge.jsonl:2: line of 200," in err[0]
    assert studies_in(storage) == []


def test_a_line_that_is_a_string_is_refused(capsys, storage, tmp_path):
    data = tmp_path / "s.jsonl"
    data.write_text('"just a string"\n')
    code, err = run_cli(["--space", "smoke", "--storage", storage, "--data", str(data)], capsys)
    assert code == 2 and "s.jsonl:1: expected an object" in err[0]


def finishing(cfg, monitor):
    metrics = {"rougeL": 0.5, "bertscore_f1": 0.5, "train_seconds": 1.0, "eval_loss": 1.0}
    return SimpleNamespace(metrics=metrics, history=[metrics], predictions=[], pruned_at=None)


def test_a_study_resumed_on_changed_data_is_refused_and_goes_on_once_restored(capsys, storage,
                                                                               fake_model_dir, qa_file):
    command = ["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
               "--no-progress", "--trials", "1"]
    assert main(command, trial_fn=finishing) == 0
    original = qa_file.read_text()
    qa_file.write_text(original.replace(" parts.", " chambers."))  # the answers edited
    capsys.readouterr()
    code = main(command, trial_fn=finishing)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: study 'smoke' began on other data") and "the same number of" in err[0]
    assert "or start a new study with --study-name" in err[0]
    assert len(optuna.load_study(study_name="smoke", storage=storage).trials) == 1  # nothing was run or lost

    qa_file.write_text(original + original.replace("fact number", "detail number"))  # more pairs: the counts differ
    assert main(command, trial_fn=finishing) == 2
    assert "qa.jsonl gave 6/2/2 train/val/test pairs" in capsys.readouterr().err

    qa_file.write_text(original)
    assert main(command, trial_fn=finishing) == 0
    assert len(optuna.load_study(study_name="smoke", storage=storage).trials) == 2
