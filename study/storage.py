"""Storage URLs, samplers, and creating or resuming a study.

The default storage is a SQLite file ``studies/<study-name>.db``; any Optuna storage URL works
(``postgresql://…`` for many workers). Running the same command again resumes the study; a
study of the same name with other objectives is refused instead of being mixed up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import optuna

from objectives import Objective
from study.errors import StudyError

STUDIES_DIR = Path("studies")


def default_storage_url(study_name: str) -> str:
    return f"sqlite:///{STUDIES_DIR / study_name}.db"


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url``; a bad or unreachable URL stops with one line."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if "://" not in url:
        raise StudyError(f"--storage {url}: not a storage URL (e.g. sqlite:///studies/x.db or postgresql://user@host/db)")
    if url.startswith("journal:///"):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url.removeprefix("journal:///")))
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # SQLAlchemy raises many kinds: bad dialect, refused connection, missing driver
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(f"--storage {url}: cannot open ({reason})") from None


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
        return optuna.samplers.GridSampler(grid, seed=seed)
    raise StudyError(f"unknown sampler '{name}' (valid: tpe, nsga2, gp, random, grid)")


def existing_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.study.StudySummary | None:
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        if summary.study_name == name:
            return summary
    return None


def check_compatible(storage: optuna.storages.BaseStorage, name: str, objectives: Sequence[Objective]) -> None:
    """Refuse to resume a study whose objectives differ from the requested ones (before anything is written)."""
    summary = existing_study(storage, name)
    if summary is None:
        return
    study = optuna.load_study(study_name=name, storage=storage)
    have = [f"{m}:{'max' if d == optuna.study.StudyDirection.MAXIMIZE else 'min'}" for m, d in zip(study.metric_names or ["?"] * len(study.directions), study.directions)]
    want = [str(o) for o in objectives]
    if have != want:
        raise StudyError(
            f"--study-name {name}: the study exists with objectives {','.join(have)}, not {','.join(want)}; "
            "use another --study-name or the same objectives"
        )


def create_or_resume(
    storage: optuna.storages.BaseStorage,
    name: str,
    objectives: Sequence[Objective],
    sampler: optuna.samplers.BaseSampler,
    attrs: dict[str, Any],
) -> optuna.Study:
    """Create the study (with named metrics) or load it again for resuming."""
    check_compatible(storage, name, objectives)
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=[o.direction for o in objectives],
        sampler=sampler,
        load_if_exists=True,
    )
    if study.metric_names is None:
        study.set_metric_names([o.metric for o in objectives])
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study
