"""Confirmation with fresh seeds: ranked configurations, noise floor, and the sentence from the numbers."""

from __future__ import annotations

import re

import optuna

from reports import build_figures, render_html, study_data
from reports._confirmation import figure
from reports._rows import ObjectiveInfo


def _section(study, pruning, anchor: str) -> str:
    data = study_data(study, pruning)
    page = render_html(data, build_figures(data))
    start = page.index(f'id="{anchor}"')
    return page[start:page.find("<h2", start)]


def test_configurations_are_ranked_by_the_seed_mean_of_the_first_objective(liver_study) -> None:
    c = study_data(*liver_study).analyses.confirmation
    assert [k.number for k in c.configurations] == [5, 4, 3]  # seed means 0.42, 0.40, 0.30
    assert c.noise_floor == {"rougeL": 0.025, "length_error": 0.04}


def test_ranking_follows_a_minimised_first_objective(liver_trials) -> None:
    from reports._confirmation import confirmation

    flipped = {n: {"rougeL": t["rougeL"]} for n, t in liver_trials.confirmed.items()}
    c = confirmation(flipped, None, (ObjectiveInfo("rougeL", "minimize"),))
    assert [k.number for k in c.configurations] == [3, 4, 5]


def test_the_verdict_names_the_trial_that_beats_the_base_model_with_its_interval(liver_study) -> None:
    rouge, length = study_data(*liver_study).analyses.confirmation.verdicts
    # trial 5 gains most of those whose interval excludes 0 (trial 3's [-0.01, 0.21] does not).
    assert rouge == "trial 5 beats the base model on rougeL by +0.22, 95 % interval [+0.15, +0.29]"
    assert length == ("no confirmed configuration beats the base model on length_error: the best, trial 4, gains "
                      "-0.05, 95 % interval [-0.12, +0.02] (lower is better), which includes no improvement")


def test_the_section_shows_seeds_sd_interval_and_gain_with_p(liver_study) -> None:
    section = _section(*liver_study, "confirmation")
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td><td>3</td>", section)
    assert rows == [("5", "rougeL"), ("5", "length_error"), ("4", "rougeL"), ("4", "length_error"),
                    ("3", "rougeL"), ("3", "length_error")]
    assert "[0.38, 0.46] (20 questions)" in section  # trial 5's rougeL interval
    assert "+0.22<br><span class=\"gain\">[+0.15, +0.29]<br>p = 0.0002" in section
    assert "Noise floor (median seed-to-seed SD of one configuration): rougeL 0.025, length_error 0.04" in section
    assert "trial 5 beats the base model on rougeL by +0.22, 95 % interval [+0.15, +0.29]" in section
    assert figure(study_data(*liver_study).analyses.confirmation).figure is not None


def test_without_confirmation_the_section_says_which_command_provides_it(study: optuna.Study, liver_single) -> None:
    for c in (study_data(study).analyses.confirmation, study_data(*liver_single).analyses.confirmation):
        assert not c.configurations and "python -m study.confirm" in (c.note or "")
        assert figure(c).figure is None
    assert "<table>" not in _section(*liver_single, "confirmation")
