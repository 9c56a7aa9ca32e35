"""The dashboard as a user opens it: a real study, the real optuna-dashboard server on a loopback port.

Checks through its HTTP API (``/api/studies/<id>``) what a clinician reads there: the study
note, a note on every trial with its metric table and answers beside the references, numeric
metric attributes the trials table can sort by, downloadable predictions, and the study's
own figures.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
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


@pytest.fixture()
def dashboard(smoke_study):
    storage, artifacts = smoke_study
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
        yield base, storage
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_dashboard_shows_notes_metrics_predictions_and_figures(dashboard, qa_file):
    base, storage = dashboard
    studies = {s["study_name"]: s["study_id"] for s in json.loads(get(base + "/api/studies"))["study_summaries"]}
    detail = json.loads(get(f"{base}/api/studies/{studies['d']}"))
    assert "Reading the front" in detail["note"]["body"] and "python -m study.confirm" in detail["note"]["body"]
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
        assert trial["artifacts"], "each finished trial's predictions are listed"
        artifact = trial["artifacts"][0]
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
