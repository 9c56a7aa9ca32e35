"""A pruner as a space names it: ``study.pruner: median`` or ``study.pruner: {name: median, n_startup_trials: 8}``.

Only the shape is read here (a name, and settings given as ``key: value``); which names exist and
which settings each takes, with their checks, is the pruner registry's (:mod:`study.pruners`),
which sits above this layer and may import Optuna.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from study.core.errors import StudyError


@dataclass(frozen=True)
class PrunerSpec:
    """A pruner's registry name and the settings given to it, in the order given.

    A setting that is itself a pruner (what a wrapper such as ``patient`` wraps) is given the
    same way, as a name or a mapping with ``name``, and held as a :class:`PrunerSpec`.
    """

    name: str
    settings: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> PrunerSpec:
        """From YAML or a flag: a name, a mapping with ``name``, or a spec already built."""
        if isinstance(raw, PrunerSpec):
            return raw
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, Mapping):
            name = raw.get("name")
            if not isinstance(name, str):
                raise StudyError(f"expected a mapping with a pruner 'name', got {dict(raw)!r}")
            settings = tuple((str(k), cls.parse(v) if isinstance(v, Mapping) else v)
                             for k, v in raw.items() if k != "name")
            return cls(name, settings)
        raise StudyError(f"expected a pruner name or a mapping with 'name', got {raw!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as given, nested pruners as mappings: JSON, for the study's user attributes."""
        return {k: {"name": v.name, **v.to_dict()} if isinstance(v, PrunerSpec) else v for k, v in self.settings}

    def __str__(self) -> str:
        if not self.settings:
            return self.name
        given = ", ".join(f"{k}: {v}" for k, v in self.settings)
        return f"{{name: {self.name}, {given}}}"
