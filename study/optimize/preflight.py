"""What ``study.run`` checks before the storage is touched: :func:`check_study`.

The space's own rules are in :mod:`search_spaces` (pure); these also read what the trials will
read (the data, the probes, the retrieval corpus, the model's ``config.json``), so that a typo,
a missing file or an impossible rank stops the command with one line instead of failing every
trial or leaving a half-made study behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from objectives import Objective
from search_spaces import SearchSpace, check_rank, reads_corpus, reads_probes
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.core.settings import StudySettings
from study.finetune.data import Splits


@dataclass(frozen=True)
class CheckedStudy:
    """A space that passed every check, with what the study's runner needs of it."""

    space: SearchSpace  # with the probes it needs and its language fixed
    objectives: list[Objective]
    base_cfg: TrialConfig  # the space's first configuration: what every trial shares
    splits: Splits
    grid: Any  # the grid sampler's points (sampler grid), else None
    personal_data: dict[str, Any]  # what --allow-personal-data let through, for the study's attributes
    said: list[str]  # the language and the metrics' self-check
    warnings: list[str]


def check_study(space: SearchSpace, settings: StudySettings, allow_personal_data: bool,
                allow_hub: bool) -> CheckedStudy:
    """Every check of a study before anything is stored: objectives, pruner, sampler, data (personal data
    included), language, probes and corpus, judge, metrics produced, LoRA ranks, quantisation."""
    from objectives import parse_objectives
    from search_spaces import check_pruning, check_stop, with_probes
    from study.finetune.data import load_splits
    from study.finetune.data_guard import guard
    from study.finetune.model import check_quantization, resolve_model
    from study.optimize.samplers import make_sampler

    objectives = parse_objectives(settings.objectives)
    parse_objectives([settings.pruning_metric], where="--pruning-metric")
    check_pruning(settings)
    check_stop(settings)
    grid = space.grid() if settings.sampler == "grid" else None
    make_sampler(settings.sampler, 0, grid)
    metrics = [o.metric for o in objectives] + [settings.pruning_metric]
    space = with_probes(space, metrics)
    base_cfg = space.first_config()
    splits = load_splits(base_cfg.data)
    personal_data = guard(base_cfg, allow_personal_data)  # the data the study reads, scanned
    space, base_cfg, said = fix_language(space, base_cfg, splits)
    check_knowledge(space, base_cfg, splits)
    warnings = [check_judge(base_cfg, objectives, settings), encoder_warning(base_cfg)]
    check_produced(space, base_cfg, metrics)
    check_model_rank(space, resolve_model(base_cfg.model.name, allow_hub=allow_hub))
    check_quantization(base_cfg.model)
    return CheckedStudy(space, objectives, base_cfg, splits, grid, personal_data, said,
                        [w if w.startswith("warning:") else f"warning: {w}" for w in warnings if w])


def check_knowledge(space: SearchSpace, base_cfg: TrialConfig, splits: Splits) -> None:
    """Probes and the retrieval corpus are read now where trials will need them: a missing file stops here."""
    from study.finetune.knowledge import load_probes
    from study.finetune.retrieval import Retriever

    if reads_probes(space):
        try:
            load_probes(base_cfg.data, splits)
        except StudyError as exc:
            asked = "data.augment" if not base_cfg.evaluation.probes else "the knowledge metrics (evaluation.probes)"
            raise StudyError(f"{asked}: {exc}") from None
    if reads_corpus(space):
        Retriever.from_corpus(base_cfg.retrieval.corpus, base_cfg.retrieval.passage_words)


def check_model_rank(space: SearchSpace, model_source: str) -> None:
    """The space's LoRA ranks against the hidden size in a local model's ``config.json`` (a hub id: unknown yet)."""
    config_file = Path(model_source) / "config.json"
    if config_file.is_file():
        check_rank(space, json.loads(config_file.read_text()).get("hidden_size"))


def check_judge(base_cfg: TrialConfig, objectives: Sequence[Objective], settings: StudySettings) -> str | None:
    """A judge objective needs an endpoint, and a configured endpoint must answer: both stop here, in one line.

    Returns a warning to print (the endpoint is not on this machine), or None.
    """
    from study.finetune.endpoint_judge import preflight

    return preflight(base_cfg.evaluation.judge, [o.metric for o in objectives], settings.pruning_metric)


def fix_language(space: SearchSpace, base_cfg: TrialConfig, splits: Splits) -> tuple[SearchSpace, TrialConfig, list[str]]:
    """Fix the data's language for every trial (``data.language``, else detected) and self-check the metrics on it.

    A metric that gives a reference scored against itself less than its perfect score, or
    cannot tell it from other questions' references, stops the study here, before the storage
    is touched (BERTScore is checked when its encoder is loaded, at the first trial). Returns the
    space and configuration with the language fixed, and the lines to print.
    """
    from dataclasses import replace

    import objectives

    encoder = base_cfg.evaluation.bertscore_model
    if encoder is not None and not Path(encoder).is_dir():
        raise StudyError(f"evaluation.bertscore_model: {encoder} is not a directory (a local encoder is expected)")
    code, check = objectives.checked_language([t for p in (*splits.train, *splits.val) for t in (p.question, p.answer)],
                                              [p.answer for p in (*splits.val, *splits.train)],
                                              base_cfg.data.language, splits.source)
    said = [f"language: {code} ({'data.language' if base_cfg.data.language else 'detected from the data'})",
            check.summary()]
    space = space.with_fixed(**{"data.language": code})
    return space, replace(base_cfg, data=replace(base_cfg.data, language=code)), said


def encoder_warning(cfg: TrialConfig) -> str | None:
    """One line where the English-only bundled encoder would score answers in another language."""
    import objectives

    return objectives.encoder_warning(cfg.data.language, cfg.evaluation.bertscore_model)


def check_produced(space: SearchSpace, base_cfg: TrialConfig, metrics: Sequence[str]) -> None:
    """An objective or pruning metric that no trial would produce stops here (``Metric.requires``).

    The quiz metrics need ``evaluation.general_questions``; without it every trial would end FAIL
    with "no value of forgetting". A key the space searches counts as set.
    """
    import objectives

    def setting(key: str) -> object:
        if key in space.dimensions:
            return True
        value: object = base_cfg
        for part in key.split("."):
            value = getattr(value, part, None)
        return value

    problems = objectives.unproduced(metrics, setting)
    if problems:
        raise StudyError.collect(problems, f"space '{space.name}'")
