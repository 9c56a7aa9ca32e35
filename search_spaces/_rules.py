"""Rules a space must keep for a study to run, checked before the storage is touched.

Pure functions of a :class:`SearchSpace` (and a number or two the caller reads, such as the
model's hidden size), so that ``study.run`` only parses its flags and calls them. Each asks a
dimension what values it can reach (:meth:`Choice.extremes`, :meth:`Range.extremes`); a key that
is not searched has its fixed value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from search_spaces._space import SearchSpace
from study import pruners
from study.core.errors import StudyError
from study.core.settings import StudySettings

#: Sections and data keys loaded once per process: the same for every trial, never searched.
LOADED_ONCE_SECTIONS = ("model",)
LOADED_ONCE_DATA_KEYS = ("path", "split_seed", "val_fraction", "test_fraction", "max_train_examples",
                         "max_val_examples", "probes", "language")
LOADED_ONCE_KEYS = ("evaluation.bertscore_model",)  # the encoder is loaded once per process


def check_loaded_once(space: SearchSpace) -> None:
    """Model and data are loaded once per process, so they cannot vary between trials."""
    searched = [
        name for name in space.dimensions
        if name.split(".")[0] in LOADED_ONCE_SECTIONS
        or name in {f"data.{k}" for k in LOADED_ONCE_DATA_KEYS} | set(LOADED_ONCE_KEYS)
    ]
    if searched:
        raise StudyError(f"space '{space.name}': {', '.join(searched)} cannot be searched (loaded once per study); "
                         "fix a value")


def possible(space: SearchSpace, key: str) -> list[Any]:
    """The values ``key`` can take in the space: a searched dimension's choices or bounds, else its fixed value."""
    dim = space.dimensions.get(key)
    if dim is not None:
        return dim.extremes()
    section, _, name = key.partition(".")
    return [space.fixed.get(key, getattr(getattr(space.config({}), section), name))]


def with_probes(space: SearchSpace, metrics: Iterable[str]) -> SearchSpace:
    """A knowledge metric among ``metrics`` (objectives, pruning metric) turns the probes on (``evaluation.probes``)."""
    from objectives import KNOWLEDGE_METRICS

    return space.with_fixed(**{"evaluation.probes": True}) if set(metrics) & KNOWLEDGE_METRICS else space


def reads_probes(space: SearchSpace) -> bool:
    """Whether some trial reads the probes file: to score the probes, or to augment the training pairs."""
    return (any(possible(space, "evaluation.probes")) or any(possible(space, "data.augment")))


def reads_corpus(space: SearchSpace) -> bool:
    """Whether some trial puts retrieved passages into its prompts, and so reads the retrieval corpus."""
    return any(possible(space, "retrieval.top_k"))


def check_stop(settings: StudySettings) -> None:
    """The rule on the Pareto front is patience's: the terminator's regret bound has one objective."""
    stop = settings.stop
    if stop is not None and stop.judge == "front" and stop.rule != "patience":
        raise StudyError(f"study.stop: judge 'front' works with rule 'patience', not '{stop.rule}' (the "
                         "terminator judges the first objective: use judge 'first' with it)")


def check_pruning(settings: StudySettings) -> None:
    """A per-question pruner (its registry step is a question) needs a pruning metric scored question by question."""
    from objectives import registered

    chosen = pruners.choose(settings.pruner)
    if not chosen.per_question:
        return
    per_question = [m.name for m in registered().values() if m.per_question is not None and m.from_rows is None]
    if settings.pruning_metric not in per_question:
        raise StudyError(f"the {chosen.name} pruner compares trials question by question, so its "
                         f"pruning metric must be scored per question, not '{settings.pruning_metric}' "
                         f"(use {', '.join(per_question)})")


def check_rank(space: SearchSpace, hidden_size: int | None) -> None:
    """A LoRA rank above the model's hidden size adds nothing but cost: refuse it before any trial.

    ``hidden_size`` None (a hub model, known only after download) checks nothing.
    """
    if not isinstance(hidden_size, int):
        return
    too_big = [r for r in possible(space, "lora.rank") if r > hidden_size]
    if too_big:
        raise StudyError(
            f"space '{space.name}': 'lora.rank' {max(too_big)} is larger than the model's hidden size {hidden_size}; "
            f"use ranks up to {hidden_size}"
        )
