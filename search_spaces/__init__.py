"""Search spaces: YAML files in this folder and the code that turns a trial into a config.

``load_space("smoke")`` reads ``search_spaces/smoke.yaml``; a path works too.
"""

from __future__ import annotations

from search_spaces._space import Choice, Range, SearchSpace, load_space, parse_space, resolve_space_path

__all__ = ["Choice", "Range", "SearchSpace", "load_space", "parse_space", "resolve_space_path"]
