"""The "Style or knowledge?" section on a seeded simulation of the knowledge grid with a known answer."""

from __future__ import annotations

import itertools

import numpy as np

from objectives import Interval
from reports._knowledge import NO_PROBES, figure, knowledge, table
from reports._rows import TrialRow


def row(number: int, config: dict, gain: float, style: float, is_base: bool = False,
        forgetting: float | None = None) -> TrialRow:
    metrics = {"knowledge_gain": gain, "length_error": style, "probe_unseen_rougeL": 0.2, "forgetting": forgetting}
    return TrialRow(number, "COMPLETE", (gain, style), {}, metrics, config, 1.0, None, None, is_base=is_base,
                    intervals={"knowledge_gain": Interval(gain, gain - 0.03, gain + 0.03, 24)})


def grid_rows(seed: int = 0) -> list[TrialRow]:
    """The 2x2x2x2 grid where retrieval adds 0.20 to the gain, QA tuning shortens answers, continued
    pre-training costs 0.10 of general-quiz accuracy, and the rest does nothing."""
    rng = np.random.default_rng(seed)
    rows = [row(0, {}, 0.0, 1.0, is_base=True)]
    for n, (tune, aug, pre, k) in enumerate(itertools.product((0, 3), (0, 2), (0, 1), (0, 2)), start=1):
        config = {"training": {"epochs": tune}, "data": {"augment": aug}, "pretraining": {"epochs": pre},
                  "retrieval": {"top_k": k}}
        rows.append(row(n, config, 0.20 * (k > 0) + rng.normal(0, 0.02), 1.0 - 0.5 * (tune > 0) + rng.normal(0, 0.05),
                        forgetting=0.10 * (pre > 0) + rng.normal(0, 0.02)))
    return rows


def test_each_remedy_is_compared_on_and_off_and_the_planted_effects_are_found():
    k = knowledge(grid_rows())
    effects = {e.remedy: e for e in k.effects}
    assert all((e.n_on, e.n_off) == (8, 8) for e in k.effects)
    retrieval = effects["retrieval"].gain
    assert retrieval.low > 0.15 and retrieval.high < 0.25  # the planted +0.20
    for remedy in ("QA tuning", "paraphrase augmentation", "continued pre-training"):
        assert effects[remedy].gain.contains(0.0), remedy
    assert effects["QA tuning"].style.high < 0  # answers moved towards the references' length
    assert "retrieval raised knowledge of the trained facts" in k.reading
    assert "QA tuning made no difference we can tell" in k.reading and "towards the references' length" in k.reading
    assert effects["continued pre-training"].forgetting.low > 0.05
    assert effects["retrieval"].forgetting.contains(0.0)
    assert "continued pre-training made no difference we can tell" in k.reading
    assert "it cost general-medicine accuracy (forgetting +0.1" in k.reading
    assert k.best.label.endswith("retrieval") and f"trial {k.best.number}" in k.reading
    assert k.points[0].label == "base model" and len(k.points) == 17


def test_the_section_renders_and_says_what_is_missing_without_probes():
    k = knowledge(grid_rows())
    assert figure(k).figure is not None
    html = table(k)
    assert "knowledge_gain: on − off" in html and "forgetting: on − off" in html and "raised knowledge" in html
    empty = knowledge([TrialRow(1, "COMPLETE", (0.3,), {}, {"rougeL": 0.3}, {}, 1.0, None, None)])
    assert empty.note == NO_PROBES and figure(empty).note == NO_PROBES and table(empty) is None
