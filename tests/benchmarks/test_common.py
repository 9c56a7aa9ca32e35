from __future__ import annotations

import json
import math

from benchmarks import _common as common


def test_result_line_is_one_json_line_with_nan_as_null():
    line = common.result_line("x", "quick", {"ratio": math.nan, "nested": {"a": 1.234567}}, {"python": "3.11"})
    assert line.startswith(common.RESULT_PREFIX) and "\n" not in line
    body = json.loads(line.removeprefix(common.RESULT_PREFIX))
    assert body == {"benchmark": "x", "mode": "quick", "ratio": None, "nested": {"a": 1.2346}, "machine": {"python": "3.11"}}


def test_table_aligns_columns_and_shows_missing_values_as_dash():
    text = common.table(["name", "seconds"], [["a", 1.23456], ["longer", None]])
    lines = text.splitlines()
    assert lines[0].startswith("name    seconds")
    assert lines[2].split() == ["a", "1.235"] and lines[3].split() == ["longer", "-"]


def test_ratio_of_zero_denominator_is_nan():
    assert math.isnan(common.ratio(1.0, 0.0))
    assert common.ratio(3.0, 2.0) == 1.5


def test_trial_config_fixes_given_values_and_keeps_defaults():
    cfg = common.trial_config(data={"max_train_examples": 8}, training={"epochs": 1})
    assert cfg.data.max_train_examples == 8 and cfg.training.epochs == 1
    assert cfg.model.device == "cpu" and cfg.lora.rank == 16
