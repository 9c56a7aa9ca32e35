"""Optuna samplers by name, and the seed each worker's sampler gets."""

from __future__ import annotations

from typing import Any

import optuna

from study.core.errors import StudyError
from study.optimize.storage import SINGLE_WRITER_SCHEMES, existing_study, scheme


def make_sampler(name: str, seed: int | None, grid: dict[str, list[Any]] | None = None) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=8)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=10)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        if grid is None:
            raise StudyError("the grid sampler needs a space of choices or stepped ranges")
        return GridSampler(grid, seed=seed)
    raise StudyError(f"unknown sampler '{name}' (valid: tpe, nsga2, gp, random, grid)")


def sampler_seed(seed: int, url: str, storage: optuna.storages.BaseStorage, study_name: str) -> int | None:
    """The seed of this process's sampler.

    One writer (SQLite): ``seed`` plus the trials the study already holds, so that a fresh
    study is reproducible and a resumed one does not propose its first configurations again.
    Shared storages: None (fresh randomness), because workers started together with one seed
    would propose the same configurations; a study of several workers is not reproducible anyway.
    """
    if scheme(url) not in SINGLE_WRITER_SCHEMES:
        return None
    summary = existing_study(storage, study_name)
    return seed + (summary.n_trials if summary else 0)


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler for the ask-and-tell loop: it says when every grid point has run.

    Optuna's own calls ``Study.stop`` then, which raises outside ``Study.optimize``; the loop
    reads :attr:`exhausted` instead and stops asking.
    """

    exhausted = False

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        # The trial that ends now is not finished in the storage yet: count its grid point as visited.
        unvisited = set(self._get_unvisited_grid_ids(study)) - {trial.system_attrs.get("grid_id")}
        self.exhausted = not unvisited
