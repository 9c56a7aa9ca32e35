"""Hyperparameter studies of LoRA fine-tuning for question answering.

Entry points (each a module with its own docstring):
``python -m study.run``, ``study.export``, ``study.train``, ``study.evaluate``, ``study.report``.
"""

from __future__ import annotations

from study.errors import StudyError

__all__ = ["StudyError"]
