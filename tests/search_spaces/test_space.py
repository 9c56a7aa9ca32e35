from __future__ import annotations

import optuna
import pytest

from search_spaces import Choice, Range, load_space, parse_space
from study.core.config import TrialConfig
from study.core.errors import StudyError


@pytest.mark.parametrize("name", ["default", "informed", "smoke", "llama-3.1-8b", "clinical"])
def test_bundled_spaces_load_and_suggest_valid_configs(name):
    space = load_space(name)
    study = optuna.create_study(directions=["maximize"] * len(space.settings.objectives))
    for _ in range(5):
        cfg = space.suggest(study.ask())
        assert isinstance(cfg, TrialConfig)
        assert TrialConfig.from_dict(cfg.to_dict(), where="round trip") == cfg


def test_fixed_values_and_ranges_share_one_syntax():
    space = parse_space(
        {
            "lora": {"rank": {"choices": [4, 8]}, "dropout": 0.1},
            "training": {"learning_rate": {"low": "1e-5", "high": 1.0e-3, "log": True}, "epochs": {"low": 1, "high": 3}},
        },
        "t.yaml",
    )
    assert space.fixed["lora.dropout"] == 0.1
    assert space.dimensions["lora.rank"] == Choice((4, 8))
    assert space.dimensions["training.learning_rate"] == Range(1e-5, 1e-3, True, None)
    assert space.dimensions["training.epochs"].is_int
    cfg = space.suggest(optuna.create_study().ask())
    assert cfg.lora.rank in (4, 8) and 1e-5 <= cfg.training.learning_rate <= 1e-3 and cfg.lora.dropout == 0.1


def test_every_problem_is_reported_together_with_its_key():
    bad = {
        "lora": {"rank": {"low": 64, "high": 8}, "colour": 3, "dropout": {"low": 0.0, "high": 0.1, "log": True}},
        "training": {"learning_rate": {"low": 0.0, "high": 0.1, "log": True}, "epochs": "two"},
        "decoding": {"num_beams": {"choices": []}},
        "study": {"sampler": "annealing", "objectives": ["rougeL:max", "bogus:min"]},
        "extra": {},
    }
    with pytest.raises(StudyError) as err:
        parse_space(bad, "space.yaml")
    message = err.value.message
    for fragment in ["space.yaml", "lora.rank", "lora.colour", "training.learning_rate", "log scale",
                     "lora.dropout", "training.epochs", "decoding.num_beams.choices", "annealing", "unknown section 'extra'"]:
        assert fragment in message, fragment


def test_objectives_are_checked_after_types():
    with pytest.raises(StudyError, match="unknown metric 'bogus'"):
        parse_space({"study": {"objectives": ["rougeL:max", "bogus:min"]}}, "s.yaml")


def test_step_must_divide_the_range_and_choices_must_be_valid():
    with pytest.raises(StudyError, match="does not divide"):
        parse_space({"training": {"batch_size": {"low": 4, "high": 10, "step": 4}}}, "s.yaml")
    with pytest.raises(StudyError, match="scheduler.*valid: linear"):
        parse_space({"training": {"scheduler": {"choices": ["linear", "zigzag"]}}}, "s.yaml")


def test_grid_lists_every_value_and_refuses_continuous_ranges():
    space = parse_space({"lora": {"rank": {"choices": [4, 8]}}, "training": {"epochs": {"low": 1, "high": 3}}}, "s")
    assert space.grid() == {"lora.rank": [4, 8], "training.epochs": [1, 2, 3]}
    assert space.grid_size() == 6
    with pytest.raises(StudyError, match="continuous"):
        parse_space({"lora": {"dropout": {"low": 0.0, "high": 0.1}}}, "s").grid()


def test_unknown_space_name_lists_the_bundled_ones():
    with pytest.raises(StudyError, match=r"bundled: .*default.*smoke"):
        load_space("nonexistent")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("lora:\n  rank: [1, 2\n")
    with pytest.raises(StudyError, match=r"broken.yaml: line \d+ invalid YAML"):
        load_space(str(path))


def test_the_stopping_rule_is_a_study_setting_off_when_absent_and_checked_with_its_keys():
    from study.core.settings import StopSettings

    assert parse_space({}, "x").settings.stop is None
    space = parse_space({"study": {"stop": {"rule": "terminator", "min_trials": 20}}}, "x")
    assert space.settings.stop == StopSettings(rule="terminator", min_trials=20)
    with pytest.raises(StudyError) as err:
        parse_space({"study": {"stop": {"rule": "never", "min_trial": 3}, "n_trials": 0}}, "x")
    message = err.value.message
    assert "'study.stop.rule' got 'never'" in message and "unknown key 'study.stop.min_trial'" in message
    assert "'study.n_trials'" in message  # reported together with the other study keys
    with pytest.raises(StudyError, match="'study.stop' must be a mapping"):
        parse_space({"study": {"stop": "patience"}}, "x")
    assert load_space("default").settings.stop is not None  # on in the default space
