"""The dashboard as a user opens it: a real study, the real optuna-dashboard server on a loopback port.

Checks through its HTTP API (``/api/studies/<id>``) what a clinician reads there: the study
note, a note on every trial with its metric table and answers beside the references, numeric
metric attributes the trials table can sort by, downloadable predictions, and the study's
own figures.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


@pytest.fixture()
def smoke_study(tmp_path, tiny_model_dir, qa_file):
    storage = f"sqlite:///{tmp_path / 'd.db'}"
    artifacts = tmp_path / "artifacts"
    subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file),
         "--storage", storage, "--study-name", "d", "--trials", "2", "--artifact-dir", str(artifacts),
         "--no-progress", "--set", "training.epochs=1"],
        cwd=tmp_path, check=True, capture_output=True, text=True, timeout=600,
    )
    return storage, artifacts


@contextlib.contextmanager
def serve(storage: str, artifacts: Path) -> Iterator[str]:
    """The real optuna-dashboard server on a free loopback port; yields its base URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("optuna-dashboard")
    server = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--artifact-dir", str(artifacts),
                               storage], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                get(base + "/api/studies")
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture()
def dashboard(smoke_study):
    storage, artifacts = smoke_study
    with serve(storage, artifacts) as base:
        yield base, storage


def test_the_dashboard_shows_notes_metrics_predictions_and_figures(dashboard, qa_file):
    base, storage = dashboard
    studies = {s["study_name"]: s["study_id"] for s in json.loads(get(base + "/api/studies"))["study_summaries"]}
    detail = json.loads(get(f"{base}/api/studies/{studies['d']}"))
    assert "Reading the front" in detail["note"]["body"] and "python -m study.confirm" in detail["note"]["body"]
    assert "personal identifiers before the first trial; none was found" in detail["note"]["body"]
    references = [json.loads(line)["answer"] for line in Path(qa_file).read_text().splitlines()]
    trials = detail["trials"]
    assert trials[0]["user_attrs"] and any(a["key"] == "reference" and a["value"].strip("\"") == "base"
                                            for a in trials[0]["user_attrs"])
    for trial in trials:
        note = trial["note"]["body"]
        assert "| metric | value | 95 % interval |" in note and "Answers beside the references" in note
        assert any(ref[:40] in note for ref in references), "a reference answer stands beside the trial's answer"
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        float(attrs["rougeL"]), float(attrs["bertscore_f1"])  # numeric attributes: sortable in the table
        predictions = [a for a in trial["artifacts"] if a["filename"].endswith("-predictions.jsonl")]
        assert predictions, "each finished trial's predictions are listed"
        artifact = predictions[0]
        body = get(f"{base}/artifacts/{studies['d']}/{trial['trial_id']}/{artifact['artifact_id']}").decode()
        rows = [json.loads(line) for line in body.splitlines()]
        assert rows and {"question", "reference", "answer", "scores"} <= set(rows[0])
    tuned = [t for t in trials if "gain vs base" in t["note"]["body"] and t["number"] > 0]
    assert tuned and "Reproduce: `python -m study.export --study-name d --trial" in tuned[0]["note"]["body"]
    figures = {f["id"] for f in detail["plotly_graph_objects"]}
    assert {"pareto-front", "intermediate-values"} <= figures
    pruning = json.loads(get(f"{base}/api/studies/{studies['d.pruning']}"))
    assert "Pruning study of `d`" in pruning["note"]["body"]
    assert all("Stands for trial" in t["note"]["body"] for t in pruning["trials"])
    assert optuna.load_study(study_name="d", storage=storage).trials[1].user_attrs["rougeL"] is not None


@pytest.fixture()
def adapter_study(tmp_path, tiny_model_dir, qa_file):
    """Two trials with --save-adapters; a learning rate high enough that training lowers a random
    model's eval loss, so the trial with the lowest eval loss is on the front when it ends."""
    storage = f"sqlite:///{tmp_path / 'a.db'}"
    artifacts = tmp_path / "artifacts"
    subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file),
         "--storage", storage, "--study-name", "a", "--trials", "2", "--artifact-dir", str(artifacts),
         "--objectives", "eval_loss:min,train_seconds:min", "--pruner", "none", "--save-adapters", "--no-progress",
         "--set", "training.epochs=1", "--set", "training.learning_rate=0.01"],
        cwd=tmp_path, check=True, capture_output=True, text=True, timeout=600,
    )
    return storage, artifacts


def test_pareto_trials_keep_their_adapter_which_peft_loads(adapter_study, tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from objectives import dominates

    storage, artifacts = adapter_study
    study = optuna.load_study(study_name="a", storage=storage)
    done = sorted(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)), key=lambda t: t.datetime_complete)
    assert done[0].user_attrs.get("reference") == "base" and "adapter" not in done[0].user_attrs
    for i, t in enumerate(done[1:], start=1):  # saved exactly when no trial ended before it dominates it
        on_front = not any(dominates(u.values, t.values, study.directions) for u in done[:i])
        assert ("adapter" in t.user_attrs) == on_front, (t.number, t.values, [u.values for u in done[:i]])
    saved = [t for t in done if "adapter" in t.user_attrs]
    assert saved, "the trial with the lowest eval loss beats the base model and is on the front"
    with serve(storage, artifacts) as base:
        study_id = {s["study_name"]: s["study_id"]
                    for s in json.loads(get(base + "/api/studies"))["study_summaries"]}["a"]
        trials = {t["number"]: t for t in json.loads(get(f"{base}/api/studies/{study_id}"))["trials"]}
        for t in saved:
            listed = {a["filename"]: a["artifact_id"] for a in trials[t.number]["artifacts"]}
            name = f"trial-{t.number}-adapter.zip"
            assert listed.get(name) == t.user_attrs["adapter"]["artifact_id"]
            assert f"`{name}` in this trial's artifacts" in trials[t.number]["note"]["body"]
            archive = tmp_path / name
            archive.write_bytes(get(f"{base}/artifacts/{study_id}/{trials[t.number]['trial_id']}/{listed[name]}"))
            folder = tmp_path / f"adapter-{t.number}"
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(folder)
            model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), folder)
            assert model.peft_config["default"].r == t.params["lora.rank"]
            lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
            assert lora_b and any(p.abs().sum() > 0 for p in lora_b), "trained: LoRA's B matrices start at zero"
        for number, t in trials.items():
            if number not in {s.number for s in saved}:
                assert not any(a["filename"].endswith("-adapter.zip") for a in t["artifacts"])


def test_save_adapters_without_an_artifact_store_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "smoke", "--storage", f"journal:///{tmp_path / 'x.log'}",
         "--save-adapters"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "--save-adapters needs an artifact store: pass --artifact-dir" in done.stderr
    assert not (tmp_path / "x.log").exists(), "refused before the storage is touched"


def test_answers_carry_only_the_scores_of_their_own_questions():
    # A knowledge trial stores per-probe and per-quiz-question scores beside the validation ones; the i-th probe is
    # not the i-th validation question, so neither the predictions file nor the note may put them side by side.
    from types import SimpleNamespace

    from optuna.trial import TrialState, create_trial

    from study.core import keys
    from study.optimize.dashboard import predictions_jsonl, trial_note

    questions = [SimpleNamespace(question=f"Q{i}?", answer=f"A{i}.") for i in range(2)]
    per_question = {"rougeL": [0.5, 0.25], "knowledge_gain": [0.9, 0.8], "probe_seen_rougeL": [0.7, 0.6],
                    "forgetting": [1.0, 0.0, 0.0], "bleu_stats": [[1, 2], [3, 4]]}
    rows = [json.loads(line) for line in predictions_jsonl(questions, ["a0", "a1"], per_question).splitlines()]
    assert [r["scores"] for r in rows] == [{"rougeL": 0.5}, {"rougeL": 0.25}]
    trial = create_trial(state=TrialState.COMPLETE, values=[0.85, 0.375],
                         user_attrs={keys.ANSWERS: ["a0", "a1"], keys.PER_QUESTION: per_question})
    note = trial_note(trial, ["knowledge_gain", "rougeL"], questions, "knowledge")
    assert "| answer | rougeL |" in note and "| 0.5 |" in note and "0.9" not in note
