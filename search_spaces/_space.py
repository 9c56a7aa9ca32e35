"""A search space: fixed values and searched ranges in one YAML syntax, and a pure ``suggest``.

Every key of a :class:`study.core.config.TrialConfig` section is either a fixed value::

    training:
      batch_size: 8

or a searched dimension, given as a mapping::

    lora:
      rank: {choices: [4, 8, 16, 32, 64]}
      dropout: {low: 0.0, high: 0.1}
    training:
      learning_rate: {low: 1.0e-5, high: 1.0e-3, log: true}
      epochs: {low: 1, high: 3}             # integers when low and high are integers
      batch_size: {low: 4, high: 16, step: 4}

The ``study:`` section sets objectives, sampler, pruner and trials (``StudySettings``); the
pruner by name (``pruner: median``) or with settings (``pruner: {name: median, n_startup_trials: 8}``,
checked by :mod:`study.pruners`). The whole file is validated on load and every problem is
reported together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from search_spaces._dimensions import Choice, Dimension, Range
from study.core.config import SECTIONS, TrialConfig
from study.core.errors import StudyError
from study.core.fields import build_section, check_section, check_value, coerce, field_types, fields_of, nested_class
from study.core.settings import StopSettings, StudySettings
from study.core.yamlio import read_yaml

SPACES_DIR = Path(__file__).resolve().parent
RANGE_KEYS = {"low", "high", "log", "step"}


@dataclass(frozen=True)
class SearchSpace:
    """Fixed values and dimensions keyed ``section.key``, plus the study settings."""

    name: str
    fixed: Mapping[str, Any]
    dimensions: Mapping[str, Dimension]
    settings: StudySettings

    def suggest(self, trial: Any) -> TrialConfig:
        """Ask ``trial`` (an ``optuna.Trial``) for each dimension and build the trial's config."""
        return self.config({name: dim.suggest(trial, name) for name, dim in self.dimensions.items()})

    def first_config(self) -> TrialConfig:
        """The config of every dimension's first value: what a process loads (model, data) and checks first."""
        return self.config({name: dim.first() for name, dim in self.dimensions.items()})

    def config(self, params: Mapping[str, Any]) -> TrialConfig:
        """The config for given parameter values (what export uses to rebuild a trial)."""
        values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
        for name, value in {**self.fixed, **params}.items():
            section, key = name.split(".", 1)
            values[section][key] = value
        return TrialConfig(**{s: build_section(SECTIONS[s], v) for s, v in values.items()})

    def with_fixed(self, **overrides: Any) -> "SearchSpace":
        """A copy where ``section.key`` values given by the command line replace the file's."""
        fixed = dict(self.fixed)
        dims = dict(self.dimensions)
        problems = []
        for name, value in overrides.items():
            section, key = name.split(".", 1)
            problems += check_section(SECTIONS[section], section, {key: value})
            fixed[name] = value
            dims.pop(name, None)
        if problems:
            raise StudyError.collect(problems, "command line")
        return replace(self, fixed=fixed, dimensions=dims)

    def grid(self) -> dict[str, list[Any]]:
        """Every dimension as a finite list of values, for Optuna's grid sampler."""
        grid: dict[str, list[Any]] = {}
        for name, dim in self.dimensions.items():
            values = dim.grid()
            if values is None:
                raise StudyError(
                    f"space '{self.name}': the grid sampler needs choices or stepped ranges, "
                    f"but '{name}' is a continuous range"
                )
            grid[name] = values
        return grid

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid().values()) if self.dimensions else 1


def resolve_space_path(name_or_path: str) -> Path:
    """``smoke`` → the bundled ``search_spaces/smoke.yaml``; anything with a suffix or slash is a path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or "/" in name_or_path:
        return candidate
    bundled = SPACES_DIR / f"{name_or_path}.yaml"
    if not bundled.is_file():
        known = ", ".join(sorted(p.stem for p in SPACES_DIR.glob("*.yaml")))
        raise StudyError(f"--space {name_or_path}: no such search space (bundled: {known}; or give a YAML path)")
    return bundled


def load_space(name_or_path: str) -> SearchSpace:
    path = resolve_space_path(name_or_path)
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise StudyError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    return parse_space(raw, str(path), name=path.stem)


def parse_space(raw: Mapping[str, Any], where: str, name: str = "space") -> SearchSpace:
    """Validate a whole space; raise one :class:`StudyError` listing every problem."""
    problems: list[str] = []
    fixed: dict[str, Any] = {}
    dims: dict[str, Dimension] = {}
    settings_raw = raw.get("study") or {}
    valid_sections = ["study", *SECTIONS]
    for section in raw:
        if section not in valid_sections:
            problems.append(f"unknown section '{section}' (valid: {', '.join(valid_sections)})")
    if not isinstance(settings_raw, Mapping):
        problems.append(f"'study' must be a mapping, got {settings_raw!r}")
        settings_raw = {}
    settings_raw, stop_raw = {k: v for k, v in settings_raw.items() if k != "stop"}, settings_raw.get("stop")
    problems += check_section(StudySettings, "study", settings_raw)
    if stop_raw is not None and not isinstance(stop_raw, Mapping):
        problems.append(f"'study.stop' must be a mapping such as {{rule: patience, min_trials: 15}}, got {stop_raw!r}")
    elif stop_raw is not None:
        problems += check_section(StopSettings, "study.stop", stop_raw)
    for section, section_cls in SECTIONS.items():
        body = raw.get(section) or {}
        if not isinstance(body, Mapping):
            problems.append(f"'{section}' must be a mapping, got {body!r}")
            continue
        known = fields_of(section_cls)
        for key, value in body.items():
            full = f"{section}.{key}"
            if key not in known:
                problems.append(f"unknown key '{full}' (valid: {', '.join(known)})")
            elif nested_class(section_cls, key) is not None:
                problems += check_section(section_cls, section, {key: value})  # a nested section, fixed: not searched
                fixed[full] = value
            elif isinstance(value, Mapping):
                dim, found = _dimension(section_cls, key, value, full)
                problems += found
                if dim is not None:
                    dims[full] = dim
            else:
                problem = check_value(section_cls, key, value)
                if problem:
                    problems.append(f"'{full}' {problem}")
                else:
                    fixed[full] = coerce(value, field_types(section_cls)[key])
    settings = StudySettings()
    if not problems:
        settings = build_section(StudySettings, settings_raw)
        if stop_raw is not None:
            settings = replace(settings, stop=build_section(StopSettings, stop_raw))
        problems += _check_settings(settings)
    if problems:
        raise StudyError.collect(problems, where)
    return SearchSpace(name=name, fixed=fixed, dimensions=dims, settings=settings)


def _check_settings(settings: StudySettings) -> list[str]:
    from objectives import METRICS, parse_objectives
    from study import pruners

    problems = pruners.check(settings.pruner, "study.pruner")
    try:
        parse_objectives(settings.objectives, where="'study.objectives'")
    except StudyError as exc:
        problems.append(exc.message)
    if settings.pruning_metric not in METRICS:
        problems.append(f"'study.pruning_metric' unknown metric '{settings.pruning_metric}' (valid: {', '.join(METRICS)})")
    return problems


def _dimension(section_cls: type, key: str, spec: Mapping[str, Any], full: str) -> tuple[Dimension | None, list[str]]:
    accepted = field_types(section_cls)[key]
    if "choices" in spec:
        extra = set(spec) - {"choices"}
        if extra:
            return None, [f"'{full}' mixes 'choices' with {sorted(extra)}"]
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            return None, [f"'{full}.choices' must be a non-empty list, got {choices!r}"]
        problems = []
        for value in choices:
            problem = check_value(section_cls, key, value)
            if problem:
                problems.append(f"'{full}' choice {problem}")
        if problems:
            return None, problems
        return Choice(tuple(coerce(v, accepted) for v in choices)), []
    unknown = set(spec) - RANGE_KEYS
    if unknown:
        return None, [f"'{full}' has unknown keys {sorted(unknown)} (a range takes low, high, log, step; a choice takes choices)"]
    if "low" not in spec or "high" not in spec:
        return None, [f"'{full}' needs both 'low' and 'high' (or 'choices')"]
    if not (int in accepted or float in accepted):
        return None, [f"'{full}' is not numeric, so it takes 'choices', not a range"]
    problems = []
    for bound in ("low", "high"):
        problem = check_value(section_cls, key, spec[bound])
        if problem:
            problems.append(f"'{full}.{bound}' {problem}")
    log, step = spec.get("log", False), spec.get("step")
    if not isinstance(log, bool):
        problems.append(f"'{full}.log' must be true or false, got {log!r}")
    if problems:
        return None, problems
    low, high = coerce(spec["low"], accepted), coerce(spec["high"], accepted)
    if float in accepted and not (int in accepted):
        low, high = float(low), float(high)
    if low > high:
        problems.append(f"'{full}' low {low} is greater than high {high}")
    if log and low <= 0:
        problems.append(f"'{full}' log scale needs low > 0, got {low}")
    if step is not None:
        step = coerce(step, accepted)
        if not isinstance(step, (int, float)) or isinstance(step, bool) or step <= 0:
            problems.append(f"'{full}.step' must be a positive number, got {step!r}")
        elif log:
            problems.append(f"'{full}' cannot have both log and step")
        elif not problems and abs(((high - low) / step) - round((high - low) / step)) > 1e-9:
            problems.append(f"'{full}.step' {step} does not divide the range {low}..{high}")
    if problems:
        return None, problems
    return Range(low, high, log, step), []
