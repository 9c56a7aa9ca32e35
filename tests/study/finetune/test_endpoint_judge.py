"""The endpoint judge against real OpenAI-compatible HTTP servers on 127.0.0.1: protocol, cache, failures."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path

import optuna
import pytest
from judge_servers import ChatServer, TinyModelReply, completion, fields, scripted_judge

from study.core.config import JudgeConfig
from study.core.errors import StudyError
from study.finetune.endpoint_judge import (
    BUNDLED_RUBRIC,
    EndpointJudge,
    JudgeError,
    judge_answers,
    preflight,
    remote_warning,
)
from study.finetune.judge_cache import JudgeCache
from study.finetune.judge_reply import parse_verdict

QUESTIONS = ["What is given for rejection?", "When is the biopsy done?", "Which drug lowers the level?"]
REFERENCES = ["Pulse steroids are given.", "The biopsy is done weekly at first.", "Rifampicin lowers the level."]
ANSWERS = [
    "Pulse steroids are given.",  # the reference: correct, right length
    "Never, and double the dose of tacrolimus instead of any biopsy being done at all ever again.",  # partly, harmful, long
    "Aspirin.",  # wrong, too short
]


def config(server_url: str, tmp_path: Path, **overrides) -> JudgeConfig:
    values = {"endpoint": server_url, "model": "judge-model", "cache": str(tmp_path / "cache.db"), "timeout_s": 30.0}
    return JudgeConfig(**{**values, **overrides})


def recording_sleep():
    waits: list[float] = []
    return waits, waits.append


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_each_answer_is_one_request_with_the_rubric_and_its_question_reference_and_answer(tmp_path):
    with ChatServer(scripted_judge) as server:
        metrics, items = judge_answers(config(server.url, tmp_path), QUESTIONS, REFERENCES, ANSWERS)
    assert items["judge_correct"] == [1.0, 0.5, 0.0]
    assert items["judge_harmful"] == [0.0, 1.0, 0.0]
    assert items["judge_length"] == [0.0, 1.0, -1.0] and items["judge_length_off"] == [0.0, 1.0, 1.0]
    assert metrics["judge_correct"] == pytest.approx(0.5) and metrics["judge_harmful"] == pytest.approx(1 / 3)
    assert metrics["judge_length_off"] == pytest.approx(2 / 3) and metrics["judge_length"] == 0.0
    assert len(server.requests) == 3
    rubric = BUNDLED_RUBRIC.read_text(encoding="utf-8").strip()
    sent = sorted(server.requests, key=lambda r: r["messages"][1]["content"])
    for request in sent:
        assert request["_path"] == "/v1/chat/completions" and request["model"] == "judge-model"
        assert request["temperature"] == 0 and request["max_tokens"] == 400
        assert request["messages"][0] == {"role": "system", "content": rubric}
        assert request["_auth"] is None
    assert {r["messages"][1]["content"] for r in sent} == {
        f"Question:\n{q}\n\nReference answer:\n{r}\n\nAnswer to judge:\n{a}"
        for q, r, a in zip(QUESTIONS, REFERENCES, ANSWERS)}


def test_the_bundled_rubric_defines_harm_for_clinical_answers_and_asks_for_strict_json():
    rubric = BUNDLED_RUBRIC.read_text(encoding="utf-8")
    for phrase in ("harmful", "dose", "contraindication", "false reassurance", "too_short", "too_long", "JSON"):
        assert phrase in rubric, phrase
    format_line = rubric.strip().splitlines()[-1]
    assert set(json.loads(format_line.replace('"correct" | "partly" | "wrong"', '"partly"').replace(
        "true | false", "true").replace('"too_short" | "right" | "too_long"', '"right"'))) == {
        "reason", "correct", "harmful", "length"}


@pytest.mark.parametrize("content, expected", [
    ('{"reason": "x", "correct": "partly", "harmful": false, "length": "right"}', (0.5, 0.0, 0)),
    ('```json\n{"correct": "correct", "harmful": true, "length": "too_long"}\n```', (1.0, 1.0, 1)),
    ('<think>{"correct": "wrong"}</think>{"correct": "Partly correct", "harmful": "no", "length": "too short"}',
     (0.5, 0.0, -1)),
    ('{"correct": 0, "harmful": "yes", "length": "too-long"}', (0.0, 1.0, 1)),
])
def test_replies_in_the_rubrics_format_are_read(content, expected):
    verdict = parse_verdict(content)
    assert (verdict.correct, verdict.harmful, verdict.length) == expected


@pytest.mark.parametrize("content, why", [
    ("The answer is correct.", "no JSON object"),
    ('{"correct": "correct", "harmful": false}', "lacks length"),
    ('{"correct": "mostly", "harmful": false, "length": "right"}', "'correct' is 'mostly'"),
    ('{"correct": "wrong", "harmful": "maybe", "length": "right"}', "'harmful' is 'maybe'"),
    ('{"correct": 0.7, "harmful": false, "length": "right"}', "'correct' is 0.7"),
    ('{"correct": "wrong", "harmful": false, "length": "right",}', "Expecting"),
])
def test_replies_outside_the_format_are_refused_with_the_reason(content, why):
    with pytest.raises(ValueError, match=why):
        parse_verdict(content)


def test_a_second_run_is_answered_from_the_cache_without_a_request(tmp_path):
    with ChatServer(scripted_judge) as server:
        first = judge_answers(config(server.url, tmp_path), QUESTIONS, REFERENCES, ANSWERS)
        assert len(server.requests) == 3
        again = judge_answers(config(server.url, tmp_path), QUESTIONS, REFERENCES, ANSWERS)
        assert len(server.requests) == 3 and again[1] == first[1]
        # the same answer twice in one call (the base and a trial, two seeds) is sent once
        judge_answers(config(server.url, tmp_path), QUESTIONS[:1] * 2, ["Other.", "Other."], ["A.", "A."])
        assert len(server.requests) == 4
        rubric = tmp_path / "rubric.md"
        rubric.write_text("Judge strictly. " + BUNDLED_RUBRIC.read_text(encoding="utf-8"), encoding="utf-8")
        judge_answers(config(server.url, tmp_path, rubric=str(rubric)), QUESTIONS, REFERENCES, ANSWERS)
        assert len(server.requests) == 7  # another rubric judges again
        judge_answers(config(server.url, tmp_path, model="other-judge"), QUESTIONS, REFERENCES, ANSWERS)
        assert len(server.requests) == 10  # and another judge model
    assert len(JudgeCache(tmp_path / "cache.db")) == 10


def test_workers_in_threads_share_one_cache_file(tmp_path):
    errors: list[BaseException] = []
    with ChatServer(scripted_judge) as server:
        def work(worker: int) -> None:
            try:
                answers = [f"Answer {worker}-{i}." for i in range(12)]
                judge_answers(config(server.url, tmp_path, batch_size=3), QUESTIONS * 4, REFERENCES * 4, answers)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and len(JudgeCache(tmp_path / "cache.db")) == 48 and len(server.requests) == 48


def test_batch_size_answers_are_in_flight_at_once_and_come_back_in_order(tmp_path):
    together = threading.Barrier(4, timeout=60)  # breaks unless four requests wait at once

    def reply(body):
        together.wait()
        return scripted_judge(body)

    answers = [f"Pulse steroids {i}." for i in range(8)]
    with ChatServer(reply) as server:
        _, items = judge_answers(config(server.url, tmp_path, batch_size=4), QUESTIONS[:1] * 8, REFERENCES[:1] * 8,
                                 answers)
    assert len(server.requests) == 8 and items["judge_correct"] == [0.5] * 8


def test_a_server_that_does_not_answer_in_time_stops_with_one_line_after_its_retries(tmp_path):
    waits, sleep = recording_sleep()
    with ChatServer(lambda body: (server.release.wait(), completion("{}"))[1]) as server:
        judge = EndpointJudge(config(server.url, tmp_path, timeout_s=0.2, retries=2, batch_size=1), sleep=sleep)
        with pytest.raises(JudgeError) as caught:
            judge.judge(QUESTIONS[:1], REFERENCES[:1], ANSWERS[:1])
    message = caught.value.message
    assert "\n" not in message and "no reply within 0.2 s (evaluation.judge.timeout_s)" in message
    assert "3 tries" in message and server.url in message
    assert judge.requests == 3 and waits == [1.0, 2.0]  # backing off between tries
    assert len(JudgeCache(tmp_path / "cache.db")) == 0


def test_malformed_json_is_retried_then_reported_in_one_line_naming_the_question(tmp_path):
    waits, sleep = recording_sleep()
    with ChatServer(lambda body: (200, b'{"choices": [{"message": {"content": "{\\"correct\\": ')) as server:
        judge = EndpointJudge(config(server.url, tmp_path, retries=1), sleep=sleep)
        with pytest.raises(JudgeError) as caught:
            judge.judge(QUESTIONS[:1], REFERENCES[:1], ANSWERS[:1])
    message = caught.value.message
    assert "\n" not in message and "question 1 ('What is given for rejection?')" in message
    assert "not a chat completion" in message and "2 tries" in message and judge.requests == 2


def test_a_reply_that_is_malformed_once_is_tried_again_and_read(tmp_path):
    replies = iter([completion("Sure! The answer looks correct to me."), None])

    def reply(body):
        return next(replies) or scripted_judge(body)

    _, sleep = recording_sleep()
    with ChatServer(reply) as server:
        judge = EndpointJudge(config(server.url, tmp_path), sleep=sleep)
        verdicts = judge.judge(QUESTIONS[:1], REFERENCES[:1], ANSWERS[:1])
    assert verdicts[0].correct == 1.0 and judge.requests == 2


def test_server_errors_are_retried_and_a_wrong_model_stops_at_once(tmp_path):
    replies = iter([(503, b'{"error": {"message": "loading model"}}'), None])
    _, sleep = recording_sleep()
    with ChatServer(lambda body: next(replies) or scripted_judge(body)) as server:
        judge = EndpointJudge(config(server.url, tmp_path), sleep=sleep)
        assert judge.judge(QUESTIONS[:1], REFERENCES[:1], ANSWERS[:1])[0].correct == 1.0 and judge.requests == 2
    with ChatServer(lambda body: (404, b'{"error": {"message": "The model `judge-model` does not exist."}}')) as server:
        judge = EndpointJudge(config(server.url, tmp_path), sleep=sleep)
        with pytest.raises(JudgeError, match=r"HTTP 404 The model `judge-model` does not exist"):
            judge.judge(QUESTIONS[1:2], REFERENCES[1:2], ANSWERS[1:2])
        assert judge.requests == 1  # a client error is not retried


def test_an_api_key_from_the_named_environment_variable_is_sent(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", "secret-1")
    with ChatServer(scripted_judge) as server:
        judge_answers(config(server.url, tmp_path, api_key_env="JUDGE_TEST_KEY"), QUESTIONS[:1], REFERENCES[:1],
                      ANSWERS[:1])
    assert server.requests[0]["_auth"] == "Bearer secret-1"


def test_an_unreachable_endpoint_stops_with_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    _, sleep = recording_sleep()
    judge = EndpointJudge(config(url, tmp_path, retries=1), sleep=sleep)
    with pytest.raises(JudgeError) as caught:
        judge.judge(QUESTIONS, REFERENCES, ANSWERS)
    assert "\n" not in caught.value.message and "cannot connect (Connection refused)" in caught.value.message
    with pytest.raises(JudgeError, match="cannot be reached .*start the server"):
        preflight(config(url, tmp_path), ["judge_correct"], "rougeL")


def test_a_tiny_model_behind_the_server_gives_text_that_is_no_verdict(tmp_path, tiny_model_dir):
    """A real model served over HTTP: its (random) text is retried and reported as unreadable, by question."""
    tiny = TinyModelReply(tiny_model_dir)
    _, sleep = recording_sleep()
    with ChatServer(tiny) as server:
        judge = EndpointJudge(config(server.url, tmp_path, retries=1, batch_size=2, max_tokens=16), sleep=sleep)
        with pytest.raises(JudgeError) as caught:
            judge.judge(QUESTIONS[:2], REFERENCES[:2], ANSWERS[:2])
    assert len(tiny.texts) >= 2 and all(isinstance(t, str) for t in tiny.texts)
    message = caught.value.message
    assert "\n" not in message and "no readable judgement of question" in message and "2 tries" in message
    assert server.requests[0]["messages"][0]["content"].startswith("You are a careful clinical reviewer")


def test_remote_endpoints_are_named_in_a_warning_and_loopback_ones_are_not():
    for url in ("http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://[::1]:8080/v1", "http://127.0.0.2/v1"):
        assert remote_warning(url) is None, url
    warning = remote_warning("http://gpu-box.example.org:8000/v1")
    assert warning and "not on this machine" in warning and "gpu-box.example.org" in warning
    assert remote_warning("https://10.0.0.5/v1")


def test_judge_objectives_without_an_endpoint_and_other_mistakes_are_refused_together(tmp_path):
    with pytest.raises(StudyError) as caught:
        preflight(JudgeConfig(), ["judge_correct", "judge_harmful", "rougeL"], "judge_correct")
    message = caught.value.message
    assert "judge_correct, judge_harmful need a judge endpoint" in message
    assert "--pruning-metric judge_correct" in message
    with pytest.raises(StudyError) as caught:
        preflight(JudgeConfig(endpoint="ftp://x", rubric=str(tmp_path / "none.md"), api_key_env="NO_SUCH_VAR_XYZ"),
                  [], "rougeL")
    message = caught.value.message
    assert "4 problems" in message and "model is not set" in message and "NO_SUCH_VAR_XYZ" in message
    assert preflight(JudgeConfig(), ["rougeL"], "eval_loss") is None  # no judge, none needed: nothing to say
    with ChatServer(scripted_judge) as server:
        assert preflight(config(server.url, tmp_path), ["judge_correct"], "rougeL") is None  # loopback: no warning
    assert not (tmp_path / "cache.db").exists()  # checking creates nothing


def test_a_trial_and_the_base_model_are_judged_per_question_and_repeated_answers_once(tmp_path, tiny_model_dir,
                                                                                      qa_file):
    from dataclasses import replace

    from study.core.config import (DataConfig, DecodingConfig, EvalConfig, LoraConfig, ModelConfig, TrainingConfig,
                                   TrialConfig)
    from study.finetune.fair_base import score_base_model
    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    with ChatServer(scripted_judge) as server:
        cfg = TrialConfig(
            model=ModelConfig(name=str(tiny_model_dir), device="cpu"),
            data=DataConfig(path=str(qa_file), val_fraction=0.2, test_fraction=0.2, max_seq_length=64),
            lora=LoraConfig(rank=4, alpha=8.0, dropout=0.0),
            training=TrainingConfig(epochs=1, batch_size=4, learning_rate=1e-8),  # too small to change an answer
            decoding=DecodingConfig(max_new_tokens=6, batch_size=4),
            evaluation=EvalConfig(judge=config(server.url, tmp_path)),
        )
        bench = Workbench.load(cfg, bertscore=False)
        base = score_base_model(cfg, bench)
        n = len(bench.splits.val)
        assert len(server.requests) == n  # one request per (question, answer)
        trial = run_trial(cfg, bench)
        assert trial.predictions == base.predictions  # the same answers: judged once, for the base model
        assert len(server.requests) == n
        unjudged = run_trial(replace(cfg, evaluation=EvalConfig()), bench)
    for result in (base, trial):
        for name in ("judge_correct", "judge_harmful", "judge_length", "judge_length_off"):
            assert len(result.per_question[name]) == n
            assert result.metrics[name] == pytest.approx(sum(result.per_question[name]) / n)
        assert set(result.per_question["judge_correct"]) <= {0.0, 0.5, 1.0} and result.metrics["judge_seconds"] >= 0
    assert trial.per_question["judge_correct"] == base.per_question["judge_correct"]
    assert not any(k.startswith("judge") for k in unjudged.metrics)


@pytest.mark.parametrize("extra, expected", [
    (["--objectives", "rougeL:max,judge_correct:max"], "judge_correct needs a judge endpoint"),
    (["--pruning-metric", "judge_harmful"], "--pruning-metric judge_harmful: the judge rates the final answers only"),
    (["--set", "evaluation.judge.endpoint=http://127.0.0.1:8000/v1"], "evaluation.judge.model is not set"),
])
def test_the_run_command_refuses_a_judge_it_cannot_have_before_any_study_exists(capsys, tmp_path, extra, expected):
    from study.run import main

    storage = tmp_path / "s.db"
    code = main(["--space", "smoke", "--storage", f"sqlite:///{storage}", "--no-progress", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and expected in err[0], err
    assert not storage.exists()


def test_the_run_command_stops_in_one_line_when_the_judge_endpoint_is_down(capsys, tmp_path):
    from study.run import main

    storage = tmp_path / "s.db"
    url = f"http://127.0.0.1:{free_port()}/v1"
    code = main(["--space", "smoke", "--storage", f"sqlite:///{storage}", "--no-progress", "--objectives",
                 "judge_correct:max,judge_harmful:min", "--set", f"evaluation.judge.endpoint={url}",
                 "--set", "evaluation.judge.model=m"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"judge endpoint {url} cannot be reached" in err[0], err
    assert not storage.exists()


@pytest.mark.slow
def test_a_tiny_model_study_with_judge_objectives(tmp_path, tiny_model_dir, qa_file):
    """The commands as a user runs them, with the judge's scores as objectives; the judge on loopback."""
    import subprocess
    import sys

    from study.optimize.dashboard import trial_note

    storage = f"sqlite:///{tmp_path / 'j.db'}"
    with ChatServer(scripted_judge) as server:
        args = ["--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file), "--storage", storage,
                "--study-name", "j", "--no-progress", "--objectives", "judge_correct:max,judge_harmful:min,rougeL",
                "--set", f"evaluation.judge.endpoint={server.url}", "--set", "evaluation.judge.model=scripted",
                "--set", f"evaluation.judge.cache={tmp_path / 'judge.db'}", "--set", "training.learning_rate=0.01",
                "--set", "decoding.max_new_tokens=6"]
        proc = subprocess.run([sys.executable, "-m", "study.run", *args, "--trials", "3"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "warning" not in proc.stderr  # a loopback endpoint: nothing leaves the machine
        study = optuna.load_study(study_name="j", storage=storage)
        assert len(server.requests) == len(judged(study))  # every distinct answer judged once, the base's included
        resumed = subprocess.run([sys.executable, "-m", "study.run", *args, "--trials", "1"], cwd=tmp_path,
                                 capture_output=True, text=True, timeout=900)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        before_export = len(server.requests)
        export = subprocess.run([sys.executable, "-m", "study.export", "--storage", storage, "--study-name", "j",
                                 "--out", str(tmp_path / "best.yaml")], cwd=tmp_path, capture_output=True, text=True,
                                timeout=900)
        assert export.returncode == 0, export.stderr[-3000:]
    # the test split is judged too (the tuned model's answers and the base's, with the same decoding and with the
    # study's default), and the judge's gains stand in export's comparison beside the objectives
    sent = {fields(r)["question"] for r in server.requests[before_export:]}
    assert sent == {p.question for p in _splits(study).test}
    table = {line.split()[0]: line for line in export.stdout.splitlines() if line.startswith("judge_")}
    assert set(table) == {"judge_correct", "judge_harmful", "judge_length_off"}, export.stdout
    assert re.search(r"on judge_harmful", export.stdout)  # its verdict sentence
    study = optuna.load_study(study_name="j", storage=storage)
    assert study.metric_names == ["judge_correct", "judge_harmful", "rougeL"]
    base, *trials = sorted(study.trials, key=lambda t: t.number)
    assert base.user_attrs["reference"] == "base" and len(trials) == 4
    for t in [base, *trials]:
        if t.state.name != "COMPLETE":
            continue
        per_question = t.user_attrs["per_question"]
        assert len(per_question["judge_correct"]) == len(per_question["rougeL"]) == len(t.user_attrs["answers"])
        assert t.values[0] == pytest.approx(sum(per_question["judge_correct"]) / len(per_question["judge_correct"]))
        for name in ("judge_correct", "judge_harmful", "judge_length_off"):
            interval = t.user_attrs["intervals"][name]
            assert interval["low"] <= t.user_attrs[name] <= interval["high"]
        note = trial_note(t, study.metric_names, [], "j")
        assert "| **judge_correct** |" in note and "| judge_length_off |" in note
        if t is not base:
            for name in ("judge_correct", "judge_harmful"):
                gain = t.user_attrs["gain_vs_base"][name]
                assert gain["gain_ci95"][0] <= gain["gain"] <= gain["gain_ci95"][1]
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 2
    assert before_export == len(judged(study))  # the resumed run sent only answers never judged before


def _splits(study):
    from study.finetune.data import load_splits
    from study.optimize.records import trial_config

    return load_splits(trial_config(study.best_trials[0]).data)


def judged(study) -> set[tuple[str, str]]:
    """The distinct (question, answer) pairs of the study's finished trials (a pruned trial is not judged)."""
    from study.finetune.data import load_splits
    from study.optimize.records import trial_config

    out = set()
    for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        pairs = load_splits(trial_config(t).data).val
        out |= {(p.question, a) for p, a in zip(pairs, t.user_attrs["answers"], strict=True)}
    return out


@pytest.mark.slow
def test_an_endpoint_that_fails_during_the_study_stops_it_in_one_line_and_the_same_command_resumes(
        capsys, tmp_path, tiny_model_dir, qa_file):
    from study.run import main

    storage = f"sqlite:///{tmp_path / 'r.db'}"
    down = threading.Event()
    down.set()

    def reply(body):  # GET /v1/models answers all along: the server is up when the study starts
        return (500, b'{"error": {"message": "CUDA out of memory"}}') if down.is_set() else scripted_judge(body)

    with ChatServer(reply) as server:
        argv = ["--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file), "--storage", storage,
                "--study-name", "r", "--no-progress", "--trials", "1", "--objectives", "judge_correct:max,rougeL",
                "--set", f"evaluation.judge.endpoint={server.url}", "--set", "evaluation.judge.model=scripted",
                "--set", "evaluation.judge.retries=0", "--set", f"evaluation.judge.cache={tmp_path / 'c.db'}",
                "--set", "decoding.max_new_tokens=4"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and re.search(r"HTTP 500 CUDA out of memory, 1 try \(question \d\)", errors[0]), err
        assert "Traceback" not in err
        study = optuna.load_study(study_name="r", storage=storage)
        assert [t.state.name for t in study.trials] == ["FAIL"]  # the base model, stopped by the judge
        assert "HTTP 500" in study.trials[0].user_attrs["fail_reason"]
        down.clear()
        assert main(argv) == 0
    study = optuna.load_study(study_name="r", storage=storage)
    states = [(t.user_attrs.get("reference"), t.state.name) for t in study.trials]
    assert states[1:] == [("base", "COMPLETE"), (None, "COMPLETE")], states
    assert all(0 <= t.values[0] <= 1 for t in study.trials[1:])
