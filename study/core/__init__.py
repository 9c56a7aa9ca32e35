"""The bottom layer: the project's errors, YAML reading and the configuration dataclasses.

Imports neither torch nor optuna, so ``objectives``, ``search_spaces`` and ``reports`` may use it.
"""
