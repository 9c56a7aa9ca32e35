"""evaluation.judge as a nested section: YAML mappings, --set with dotted keys, and stored configs of old studies."""

from __future__ import annotations

import optuna
import pytest

from search_spaces import parse_space
from study.core.config import JudgeConfig, TrialConfig, explain
from study.core.errors import StudyError
from study.optimize.dashboard import metrics_table
from study.optimize.records import trial_config

JUDGE = {"endpoint": "http://127.0.0.1:8000/v1", "model": "qwen2.5-14b-instruct"}


def test_a_space_fixes_the_judge_as_a_mapping_and_the_command_line_changes_one_key():
    space = parse_space({"evaluation": {"judge": JUDGE}, "lora": {"rank": {"choices": [4, 8]}}}, "space.yaml")
    assert set(space.dimensions) == {"lora.rank"}  # the judge's mapping is a fixed section, not a dimension
    judge = space.config({"lora.rank": 4}).evaluation.judge
    assert judge == JudgeConfig(**JUDGE)
    changed = space.with_fixed(**{"evaluation.judge.timeout_s": 5, "evaluation.judge.model": "llama3.1:70b"})
    judge = changed.config({"lora.rank": 4}).evaluation.judge
    assert (judge.endpoint, judge.model, judge.timeout_s) == (JUDGE["endpoint"], "llama3.1:70b", 5.0)


def test_the_default_is_no_judge_and_null_means_the_same():
    assert TrialConfig().evaluation.judge.endpoint is None
    cfg = TrialConfig.from_dict({"evaluation": {"judge": None}}, "x.yaml")
    assert cfg.evaluation.judge == JudgeConfig() and not cfg.evaluation.judge_heuristic


def test_every_problem_of_the_judge_section_is_named_with_its_full_key():
    with pytest.raises(StudyError) as caught:
        parse_space({"evaluation": {"judge": {"endpont": "http://x", "retries": -1}}}, "space.yaml")
    message = caught.value.message
    assert "unknown key 'evaluation.judge.endpont'" in message and "'evaluation.judge.retries' must be >= 0" in message
    with pytest.raises(StudyError, match="'evaluation.judge' expected a mapping of endpoint, model"):
        TrialConfig.from_dict({"evaluation": {"judge": "http://127.0.0.1:8000/v1"}}, "best.yaml")
    space = parse_space({}, "space.yaml")
    with pytest.raises(StudyError, match="'evaluation.judge.batch_size' must be >= 1"):
        space.with_fixed(**{"evaluation.judge.batch_size": 0})


def test_explain_lists_the_judges_keys():
    text = explain("evaluation")
    for key in ("judge.endpoint", "judge.model", "judge.rubric", "judge.batch_size", "judge.timeout_s",
                "judge.retries", "judge.cache", "judge_heuristic"):
        assert f"  {key} " in text, key


def test_a_config_survives_export_and_reload():
    cfg = TrialConfig.from_dict({"evaluation": {"judge": {**JUDGE, "retries": 4}}}, "x.yaml")
    assert TrialConfig.from_dict(cfg.to_dict(), "best.yaml") == cfg


def test_a_stored_study_where_judge_true_meant_the_heuristic_still_reads_and_reports():
    """Studies stored before the endpoint judge wrote ``evaluation: {judge: true}`` and a scalar judge_score."""
    study = optuna.create_study(directions=["maximize"])
    old = TrialConfig().to_dict()
    old["evaluation"] = {"general_questions": 0, "judge": True, "probes": False, "probe_questions": None}
    trial = study.ask()
    trial.set_user_attr("config", old)
    trial.set_user_attr("metrics", {"rougeL": 0.2, "judge_score": 0.61})
    study.tell(trial, [0.2])
    frozen = study.trials[0]
    cfg = trial_config(frozen)
    assert cfg.evaluation.judge_heuristic and cfg.evaluation.judge.endpoint is None
    assert any("judge_score | 0.61" in line for line in metrics_table(frozen.user_attrs, ["rougeL"]))
    old["evaluation"]["judge"] = False
    assert not TrialConfig.from_dict(old, "old").evaluation.judge_heuristic
    space = parse_space({"evaluation": {"judge": True}}, "old-space.yaml")  # an old space file too
    assert space.config({}).evaluation.judge_heuristic
