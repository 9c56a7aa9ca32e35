"""Reading and writing YAML safely (``yaml.safe_load`` only), with file errors as :class:`StudyError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from study.core.errors import StudyError


def read_yaml(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise StudyError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise StudyError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StudyError(f"{path}:{line} invalid YAML: {reason}") from None


def write_yaml(path: str | Path, data: Any, header: str = "") -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")
