"""Search spaces: YAML files in this folder and the code that turns a trial into a config.

``load_space("smoke")`` reads ``search_spaces/smoke.yaml``; a path works too. The rules a space
must keep before a study runs (:mod:`search_spaces._rules`) are pure functions of it.
"""

from __future__ import annotations

from search_spaces._dimensions import Choice, Dimension, Range
from search_spaces._rules import (
    LOADED_ONCE_DATA_KEYS,
    LOADED_ONCE_SECTIONS,
    check_loaded_once,
    check_pruning,
    check_rank,
    check_stop,
    possible,
    reads_corpus,
    reads_probes,
    with_probes,
)
from search_spaces._space import SearchSpace, load_space, parse_space, resolve_space_path

__all__ = [
    "LOADED_ONCE_DATA_KEYS",
    "LOADED_ONCE_SECTIONS",
    "Choice",
    "Dimension",
    "Range",
    "SearchSpace",
    "check_loaded_once",
    "check_pruning",
    "check_rank",
    "check_stop",
    "load_space",
    "parse_space",
    "possible",
    "reads_corpus",
    "reads_probes",
    "resolve_space_path",
    "with_probes",
]
