"""The personal-data check: scan the files a command reads for personal identifiers, report them masked.

    python -m study.privacy scan qa.jsonl docs/          # the check alone

A :class:`Scanner` finds the built-in identifiers of :mod:`study.core.identifiers`, the team's
own patterns (a name and a regular expression each, e.g. a hospital's record-number format)
and, given a list, names of people; names are not found without one. It reads JSONL files
line by line and scans the strings of each JSON object (so ``\\u00f6`` reads as ``ö``), other
text files line by line, and directories for their ``.jsonl``, ``.json``, ``.txt``, ``.md``,
``.csv`` and ``.tsv`` files. A :class:`Finding` is file, line, kind and the *masked* value:
no message of this module ever shows an unmasked value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from study.core.errors import StudyError
from study.core.identifiers import BUILT_IN_KINDS, NAME, Match, find_identifiers, mask

SCANNED_SUFFIXES = (".jsonl", ".json", ".txt", ".md", ".csv", ".tsv")
SHOWN_FINDINGS = 10  # lines of a report; the rest are counted
_PATTERN_NAME = re.compile(r"[A-Za-z_][\w-]*")


@dataclass(frozen=True)
class Finding:
    """A personal identifier at a file's line; ``masked`` is all a message may show of it."""

    path: str
    line: int
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.masked}"


@dataclass(frozen=True)
class Scanner:
    """Built-in identifiers, plus the team's patterns (name -> compiled regex) and names of people."""

    patterns: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    names: re.Pattern[str] | None = None

    @classmethod
    def build(cls, patterns: Sequence[str] = (), names: str | Path | None = None, where: str = "privacy") -> "Scanner":
        """A scanner from ``privacy.patterns`` entries and a ``privacy.names`` file; every problem at once.

        An entry is ``NAME=REGEX`` or the path of a YAML file mapping names to regular
        expressions (``.yaml``/``.yml``).
        """
        problems: list[str] = []
        raw: dict[str, str] = {}
        for entry in patterns:
            if entry.endswith((".yaml", ".yml")):
                problems += _read_pattern_file(Path(entry), raw)
            else:
                name, sep, regex = entry.partition("=")
                name = name.strip()
                if not sep or not _PATTERN_NAME.fullmatch(name) or not regex:
                    problems.append(f"'{where}.patterns' entry {entry!r} is neither NAME=REGEX nor a .yaml file")
                else:
                    raw[name] = regex
        compiled: dict[str, re.Pattern[str]] = {}
        for name, regex in raw.items():
            if name in BUILT_IN_KINDS or name == NAME:
                problems.append(f"pattern name '{name}' is a built-in kind; choose another")
                continue
            try:
                compiled[name] = re.compile(regex)
            except re.error as exc:
                problems.append(f"pattern '{name}' is not a valid regular expression ({exc})")
                continue
            if compiled[name].search(""):
                problems.append(f"pattern '{name}' matches the empty string, so it would flag every line")
        name_pattern = None
        if names is not None:
            try:
                name_pattern = _names_pattern(Path(names))
            except StudyError as exc:
                problems.append(exc.message)
        if problems:
            raise StudyError.collect(problems, where)
        return cls(compiled, name_pattern)

    def matches(self, text: str) -> list[Match]:
        """Every identifier in one piece of text, built-in kinds first where two overlap."""
        found = find_identifiers(text)
        extra = [Match(name, m.start(), m.end(), m.group()) for name, p in self.patterns.items()
                 for m in p.finditer(text) if m.group()]
        if self.names is not None:
            extra += [Match(NAME, m.start(), m.end(), m.group()) for m in self.names.finditer(text)]
        for match in extra:
            if not any(match.start < m.end and m.start < match.end for m in found):
                found.append(match)
        return sorted(found, key=lambda m: m.start)

    def scan_text(self, text: str, path: str, first_line: int = 1) -> list[Finding]:
        """Findings in ``text``, numbered from ``first_line``."""
        out = []
        for number, line in enumerate(text.splitlines(), start=first_line):
            out += [Finding(path, number, m.kind, mask(m.value)) for m in self.matches(line)]
        return out

    def scan_file(self, path: Path) -> list[Finding]:
        """Findings in one text file; a JSONL file's lines are scanned as the strings they hold."""
        text = _read_text(path)
        if path.suffix != ".jsonl":
            return self.scan_text(text, str(path))
        rows: list[object] = []
        for line in text.splitlines():
            try:
                rows.append(json.loads(line) if line.strip() else None)
            except json.JSONDecodeError:
                rows.append(line)  # a broken line is the data reader's to report; its text is still scanned
        return self.scan_rows(rows, str(path))

    def scan_rows(self, rows: Sequence[object], path: str) -> list[Finding]:
        """Findings in the strings of JSON-like rows (row ``i`` is line ``i + 1`` of ``path``)."""
        out: list[Finding] = []
        for number, row in enumerate(rows, start=1):
            for s in _strings(row):
                out += [Finding(path, number, m.kind, mask(m.value)) for m in self.matches(s)]
        return out

    def scan_paths(self, paths: Iterable[str | Path]) -> list[Finding]:
        """Findings in files and in the text files of directories, in the order given."""
        return [finding for file in files_to_scan(paths) for finding in self.scan_file(file)]


def files_to_scan(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the text files (:data:`SCANNED_SUFFIXES`) under the directories named, once each."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCANNED_SUFFIXES)
        elif path.is_file():
            found = [path]
        else:
            raise StudyError(f"{path}: no such file or directory")
        out += [p for p in found if p not in out]
    return out


def report_lines(findings: Sequence[Finding], limit: int = SHOWN_FINDINGS) -> list[str]:
    """One line per finding, at most ``limit``, then how many more there are."""
    lines = [str(f) for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more")
    return lines


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings of each kind (what a study records when personal data is allowed)."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise StudyError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise StudyError(f"{path}: not UTF-8 text (byte {exc.start}); the personal-data check reads text only") from None
    except OSError as exc:
        raise StudyError(f"{path}: cannot read ({exc.strerror})") from None


def _read_pattern_file(path: Path, into: dict[str, str]) -> list[str]:
    from study.core.yamlio import read_yaml

    try:
        raw = read_yaml(path)
    except StudyError as exc:
        return [exc.message]
    if not isinstance(raw, Mapping) or not raw:
        return [f"{path}: expected a mapping of pattern names to regular expressions, e.g. record_number: 'RN-\\d{{6}}'"]
    problems = []
    for name, regex in raw.items():
        if not isinstance(name, str) or not _PATTERN_NAME.fullmatch(name) or not isinstance(regex, str) or not regex:
            problems.append(f"{path}: entry {name!r} must be a name and a regular expression (a string)")
        else:
            into[name] = regex
    return problems


def _names_pattern(path: Path) -> re.Pattern[str] | None:
    """Whole-word, case-sensitive matches of the names in ``path`` (one a line; ``#`` starts a comment)."""
    names = []
    for line in _read_text(path).splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    if not names:
        raise StudyError(f"{path}: the names file lists no names (one a line)")
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
