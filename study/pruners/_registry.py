"""The pruner registry: every pruner the study offers, by name, and the functions that read it.

Adding a pruner is one module with its :class:`PrunerEntry` and one line in :data:`PRUNERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.core import keys
from study.core.errors import StudyError
from study.core.pruner_spec import PrunerSpec
from study.pruners._base import EPOCH, UNIT_WORDS, UNITS, ChosenPruner, PrunerEntry
from study.pruners._hyperband import HYPERBAND
from study.pruners._median import MEDIAN
from study.pruners._none import NONE
from study.pruners._patient import PATIENT
from study.pruners._percentile import PERCENTILE_PRUNER
from study.pruners._successive_halving import SUCCESSIVE_HALVING
from study.pruners._wilcoxon import WILCOXON

PRUNERS: dict[str, PrunerEntry] = {
    e.name: e for e in (NONE, MEDIAN, PERCENTILE_PRUNER, SUCCESSIVE_HALVING, HYPERBAND, WILCOXON, PATIENT)
}


def names() -> tuple[str, ...]:
    return tuple(PRUNERS)


def _label(key: str) -> str:
    return key if key.startswith("--") else f"'{key}'"


def check(spec: PrunerSpec | str, key: str = "study.pruner") -> list[str]:
    """Every problem with ``spec`` (its name, each setting, a wrapped pruner's), each naming its key.

    ``key`` is where the user gave it: ``study.pruner`` in a space, ``--pruner`` on the command line.
    """
    spec = PrunerSpec.parse(spec)
    entry = PRUNERS.get(spec.name)
    if entry is None:
        return [f"{_label(key)} got {spec.name!r}; valid: {', '.join(PRUNERS)}"]
    problems = []
    for name, value in spec.settings:
        setting = entry.setting(name)
        where = f"{key}.{name}"
        if setting is None:
            valid = ", ".join(s.name for s in entry.settings) or "none"
            problems.append(f"unknown setting {_label(where)} of the {entry.name} pruner (valid: {valid}; "
                            "python -m study.run --explain pruner describes them)")
        elif problem := setting.problem(value):
            problems.append(f"{_label(where)} {problem} ({setting.describe()})")
        elif setting.kind is PrunerSpec:
            problems += check(value, where)
    return problems


def choose(spec: PrunerSpec | str) -> ChosenPruner:
    """The entry of ``spec`` with every setting's value (given, else its default); checked first."""
    spec = PrunerSpec.parse(spec)
    if spec.name not in PRUNERS:
        raise StudyError(f"unknown pruner {spec.name!r} (valid: {', '.join(PRUNERS)})")
    problems = check(spec)
    if problems:
        raise StudyError.collect(problems, "pruner")
    entry = PRUNERS[spec.name]
    given = dict(spec.settings)
    values: dict[str, Any] = {}
    for setting in entry.settings:
        value = given.get(setting.name, setting.default)
        if setting.kind is PrunerSpec:
            value = choose(value)
        elif setting.kind is float:
            value = float(value)
        values[setting.name] = value
    return ChosenPruner(entry, values, spec)


def build(spec: PrunerSpec | str) -> Any:
    """The Optuna pruner of ``spec`` (an ``optuna.pruners.BasePruner``)."""
    return choose(spec).build()


def explain() -> str:
    """Every pruner with its step and its settings: what ``python -m study.run --explain pruner`` prints."""
    lines = ["pruner: study.pruner is a name or {name: NAME, SETTING: VALUE}; --pruner NAME on the command line"]
    width = max(len(s.name) for e in PRUNERS.values() for s in e.settings)
    for entry in PRUNERS.values():
        step = UNIT_WORDS[entry.unit] if entry.unit else "a step is the wrapped pruner's"
        lines.append(f"  {entry.name}: {entry.help}" + (f" ({step})" if entry.prunes else ""))
        lines += [f"    {s.name:<{width}}  {s.describe()}" for s in entry.settings]
    return "\n".join(lines)


def stored_unit(attrs: Mapping[str, Any]) -> str:
    """What a step of a stored study's pruning study is (EPOCH or QUESTION).

    Studies record it (``pruning_step``); in those stored before, it is the unit of the pruner they name.
    """
    unit = attrs.get(keys.PRUNING_STEP)
    if unit in UNITS:
        return str(unit)
    entry = PRUNERS.get(str(attrs.get(keys.PRUNER)))
    return entry.unit if entry is not None and entry.unit else EPOCH
