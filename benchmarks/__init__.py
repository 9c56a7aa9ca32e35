"""Benchmarks: one script per measurement, each run as ``python -m benchmarks.<name>``.

Every script prints a human-readable table and one machine-readable line ``RESULT {...}``;
compared things are measured side by side in the same run. See ``benchmarks/README.md``.
"""
