"""Hyperparameter studies of LoRA fine-tuning for question answering.

Commands (each a module with its own docstring and ``main()``): ``python -m study.run``,
``study.confirm``, ``study.export``, ``study.train``, ``study.evaluate``, ``study.report``,
``study.human_eval``, ``study.make_qa``, ``study.prepare_model``.

The library below them is layered; each layer imports only the layers under it (an
import-linter contract in ``pyproject.toml``, checked by ``make test``):

- :mod:`study.optimize`: the study loop, pruning and its pruning study, recovery, workers, storage, samplers;
- :mod:`study.finetune`: data, model, training, evaluation, the trial recipe;
- :mod:`study.pruners`: the pruner registry, one module per pruner;
- :mod:`study.core`: errors, YAML, configuration (no torch, no optuna).
"""

from __future__ import annotations

from study.core.errors import StudyError

__all__ = ["StudyError"]
