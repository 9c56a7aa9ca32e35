"""Config sections as frozen dataclasses whose fields describe themselves.

Each field carries its help text and the values it accepts (``min``, ``max``, ``choices``, or a
``parse`` function of its own) in its metadata, set with :func:`setting`. From that one
description a YAML section, a search space's fixed values or a ``--set`` flag is checked (every
problem reported at once), built into its dataclass, and listed by ``--explain``, the way TRL's
parser turns field help into ``--help``. The sections themselves are in :mod:`study.core.config`
and :mod:`study.core.settings`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import field
from typing import Any, Mapping

from study.core.errors import StudyError


def setting(default: Any, help: str, **rules: Any) -> Any:
    """A dataclass field with help text and validation rules (min, max, choices)."""
    return field(default=default, metadata={"help": help, **rules})


def section(cls: type, help: str) -> Any:
    """A field holding a nested section (``evaluation.judge``): a mapping in YAML, its keys checked like a section's."""
    return field(default_factory=cls, metadata={"help": help})


def fields_of(section_cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(section_cls)}


@functools.cache  # a class's hints never change; resolving them evaluates every annotation string again
def field_types(section_cls: type) -> Mapping[str, tuple[type, ...]]:
    """The accepted Python types of each field; ``int | None`` gives ``(int, NoneType)``."""
    hints = typing.get_type_hints(section_cls)
    out: dict[str, tuple[type, ...]] = {}
    for name, hint in hints.items():
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            out[name] = tuple(typing.get_args(hint))
        else:
            out[name] = (hint,)
    return types.MappingProxyType(out)


def coerce(value: Any, accepted: tuple[type, ...]) -> Any:
    """Turn YAML's spellings into the field's type: ``1e-4`` (a string to PyYAML) into a float, 3 into 3.0."""
    if float in accepted and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if float in accepted and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check_value(section_cls: type, key: str, value: Any) -> str | None:
    """Return a problem with ``value`` for ``section.key``, or None when it is valid."""
    f = fields_of(section_cls)[key]
    if "parse" in f.metadata:  # a value with a shape of its own (a pruner), read by its type
        try:
            f.metadata["parse"](value)
        except StudyError as exc:
            return exc.message
        return None
    accepted = field_types(section_cls)[key]
    value = coerce(value, accepted)
    if accepted[0] is tuple or typing.get_origin(accepted[0]) is tuple:
        if value is None and type(None) in accepted:
            return None
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
            return f"expected a non-empty list of strings, got {value!r}"
        return None
    type_ok = any(
        (value is None and t is type(None))
        or (t is int and isinstance(value, int) and not isinstance(value, bool))
        or (t is float and isinstance(value, float))
        or (t is bool and isinstance(value, bool))
        or (t is str and isinstance(value, str))
        for t in accepted
    )
    if not type_ok:
        names = " or ".join("null" if t is type(None) else t.__name__ for t in accepted)
        return f"expected {names}, got {value!r}"
    if value is None:
        return None
    rules = f.metadata
    if "choices" in rules and value not in rules["choices"]:
        return f"got {value!r}; valid: {', '.join(map(str, rules['choices']))}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if "min" in rules and value < rules["min"]:
        return f"must be >= {rules['min']}, got {value!r}"
    if "max" in rules and value > rules["max"]:
        return f"must be <= {rules['max']}, got {value!r}"
    return None


def nested_class(section_cls: type, key: str) -> type | None:
    """The dataclass a field holds (``evaluation.judge``: :class:`JudgeConfig`), or None for a plain value."""
    if "parse" in getattr(fields_of(section_cls).get(key), "metadata", {}):
        return None  # a value with a parser of its own (study.pruner: a name or a mapping)
    accepted = field_types(section_cls).get(key, (None,))
    return accepted[0] if dataclasses.is_dataclass(accepted[0]) else None


def nest(section_cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with dotted keys merged into their nested section, and the spellings of stored studies read.

    ``--set evaluation.judge.endpoint=URL`` gives ``{"judge.endpoint": URL}``, merged into
    ``judge``'s mapping (the dotted key wins); ``judge: null`` is the default (no judge).
    A section with a ``read_stored(values)`` method reads older spellings there
    (:class:`study.core.config.EvalConfig`: ``judge: true``).
    """
    out: dict[str, Any] = {}
    dotted: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        head, dot, rest = key.partition(".")
        if dot and nested_class(section_cls, head) is not None:
            dotted.setdefault(head, {})[rest] = value
        else:
            out[key] = value
    read_stored = getattr(section_cls, "read_stored", None)  # a section's spellings of stored studies
    if read_stored is not None:
        out = read_stored(out)
    for key in fields_of(section_cls):
        if nested_class(section_cls, key) is None:
            continue
        if key in out and out[key] is None:
            out[key] = {}
        if key in dotted:
            before = out.get(key)
            out[key] = {**(before if isinstance(before, Mapping) else {}), **dotted[key]}
    return out


def check_section(section_cls: type, name: str, values: Mapping[str, Any]) -> list[str]:
    known = fields_of(section_cls)
    problems = []
    for key, value in nest(section_cls, values).items():
        if key not in known:
            problems.append(f"unknown key '{name}.{key}' (valid: {', '.join(known)}; "
                            f"python -m study.run --explain {name.split('.')[0]} describes them)")
            continue
        sub = nested_class(section_cls, key)
        if sub is not None:
            if isinstance(value, Mapping):
                problems += check_section(sub, f"{name}.{key}", value)
            else:
                problems.append(f"'{name}.{key}' expected a mapping of {', '.join(fields_of(sub))}, got {value!r}")
            continue
        problem = check_value(section_cls, key, value)
        if problem:
            problems.append(f"'{name}.{key}' {problem} ({describe_field(section_cls, key)})")
    return problems


def describe_field(section_cls: type, key: str) -> str:
    """One key's type, default, range or choices and help, from the field's metadata.

    ``int >= 1, default 2: passes over the training pairs``: what ``--explain`` lists and
    what an error about the key appends, the way TRL's parser turns field help into ``--help``.
    """
    f = fields_of(section_cls)[key]
    rules = f.metadata
    sub = nested_class(section_cls, key)
    if sub is not None:
        return f"mapping of {', '.join(fields_of(sub))}: {rules.get('help', '')}"
    kind = rules.get("kind") or " or ".join(
        "null" if t is type(None) else getattr(t, "__name__", str(t)) for t in field_types(section_cls)[key])
    if "choices" in rules:
        kind += f" in {{{', '.join(map(str, rules['choices']))}}}"
    if "min" in rules and "max" in rules:
        kind += f" in [{rules['min']:g}, {rules['max']:g}]"
    elif "min" in rules:
        kind += f" >= {rules['min']:g}"
    elif "max" in rules:
        kind += f" <= {rules['max']:g}"
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, tuple):
        default = ",".join(default)
    return f"{kind}, default {'null' if default is None else default}: {rules.get('help', '')}".rstrip(": ")


def build_section(section_cls: type, values: Mapping[str, Any]) -> Any:
    types_ = field_types(section_cls)
    known = fields_of(section_cls)
    out = {}
    for key, value in nest(section_cls, values).items():
        sub = nested_class(section_cls, key)
        if sub is not None:
            out[key] = build_section(sub, value)
            continue
        if "parse" in known[key].metadata:
            out[key] = known[key].metadata["parse"](value)
            continue
        if typing.get_origin(types_[key][0]) is tuple and value is not None:
            value = tuple(v.strip() for v in value.split(",")) if isinstance(value, str) else tuple(value)
        out[key] = coerce(value, types_[key])
    return section_cls(**out)


def describe_section(section: str, cls: type) -> str:
    """Every key of section ``cls`` (named ``section``) with its type, default, range and help: ``--explain``."""
    lines = [f"{section}: {(cls.__doc__ or '').strip().splitlines()[0]}"]
    rows = []  # (key, its class, its name in the section): a nested section's keys follow it as judge.endpoint
    for key in fields_of(cls):
        rows.append((key, cls, key))
        sub = nested_class(cls, key)
        rows += [(f"{key}.{k}", sub, k) for k in fields_of(sub)] if sub is not None else []
    width = max(len(shown) for shown, _, _ in rows)
    lines += [f"  {shown:<{width}}  {describe_field(owner, key)}" for shown, owner, key in rows]
    return "\n".join(lines)
