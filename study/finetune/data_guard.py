"""The personal-data check before anything trains or leaves, and the rule that canaries never leave.

``study.run``, ``study.train``, ``study.make_qa`` and ``study.export``'s test scoring call
:func:`guard` (or its variants) before they touch any storage: the files the configuration reads (QA pairs,
probes, corpora, the quiz) are scanned by :class:`study.core.personal_data.Scanner` with the
configuration's ``privacy.patterns`` and ``privacy.names``. A finding stops the command with
one masked line per finding, unless the user passed ``--allow-personal-data``; then it goes
on, says so, and the study records it (:data:`PERSONAL_DATA`).

Canaries (``privacy.canaries``) are made-up identity numbers trained into an adapter on
purpose, to measure memorisation: a configuration that holds them is never exported or
merged (``leaves=True``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.core.personal_data import Finding, Scanner, report_lines, summary
from study.finetune.data import BUNDLED_CORPUS, BUNDLED_QA, DATA_DIR

PERSONAL_DATA = keys.PERSONAL_DATA  # the study's user attribute written when personal data was let through
ALLOW_FLAG = "--allow-personal-data"
BUNDLED_QUIZ = DATA_DIR / "general_medicine_mcq.jsonl"


def data_files(cfg: TrialConfig) -> list[Path]:
    """Every data file or folder ``cfg`` names or falls back to: QA pairs, probes, both corpora, the quiz."""
    from study.finetune.knowledge import probes_path

    files = [Path(cfg.data.path) if cfg.data.path else BUNDLED_QA]
    probes = probes_path(cfg.data)
    if probes is not None:
        files.append(probes)
    for corpus in (cfg.pretraining.corpus, cfg.retrieval.corpus):
        files.append(Path(corpus) if corpus else BUNDLED_CORPUS)
    if cfg.evaluation.general_questions:
        files.append(BUNDLED_QUIZ)
    return list(dict.fromkeys(files))


def scanner_for(cfg: TrialConfig) -> Scanner:
    """The scanner of ``cfg``'s ``privacy.patterns`` and ``privacy.names``."""
    return Scanner.build(cfg.privacy.patterns or (), cfg.privacy.names, where="privacy")


def guard(cfg: TrialConfig, allow: bool, *, leaves: bool = False, scan: bool = True) -> dict[str, Any]:
    """Check what ``cfg`` reads before a command touches any storage; returns the study attributes to record.

    ``leaves``: the command writes a model or a configuration to be trained (export, train),
    so canaries are refused; ``scan`` False skips the scan (nothing is read). The attributes
    are empty when the data is clean, else the record of what ``allow`` let through.
    """
    if leaves:
        refuse_canaries(cfg)
    if not scan:
        return {}
    findings = scanner_for(cfg).scan_paths(data_files(cfg))
    record = let_through(findings, allow, cfg.privacy.names is not None)
    return {PERSONAL_DATA: record} if record else {}


def guard_export(cfgs: Sequence[TrialConfig], allow: bool, scan: bool, study: Any) -> None:
    """``study.export``: no configuration with canaries; the data scanned before the test split is scored.

    What ``allow`` lets through is recorded on ``study``.
    """
    for cfg in cfgs:
        refuse_canaries(cfg)
    for key, value in guard(cfgs[0], allow, scan=scan).items():  # one study: the same data for every trial
        study.set_user_attr(key, value)


def guard_paths(paths: Sequence[str | Path], allow: bool, patterns: Sequence[str] = (),
                names: str | None = None) -> None:
    """Scan files a command reads outside any configuration (``study.make_qa``'s documents).

    A path that does not exist is left to the command's own reader, whose message names it.
    """
    scanner = Scanner.build(patterns, names, where="command line")
    let_through(scanner.scan_paths([p for p in paths if Path(p).exists()]), allow, names is not None)


def guard_rows(rows: Sequence[Mapping[str, Any]], where: str, allow: bool, patterns: Sequence[str] = (),
               names: str | None = None) -> None:
    """Scan rows about to be written to ``where`` (``study.make_qa``'s output) before the file is written."""
    scanner = Scanner.build(patterns, names, where="command line")
    let_through(scanner.scan_rows(rows, f"{where} (not written)" if not allow else where), allow, names is not None)


def let_through(findings: Sequence[Finding], allow: bool, names_listed: bool) -> dict[str, Any] | None:
    """Stop on findings (one masked line each, at most 10) unless ``allow``; then warn and return the record."""
    if not findings:
        return None
    if not allow:
        raise StudyError(stop_message(findings, names_listed))
    record = {"findings": len(findings), "kinds": summary(findings), "allowed_by": ALLOW_FLAG}
    kinds = ", ".join(f"{n} {kind}" for kind, n in record["kinds"].items())
    print(f"warning: the data holds personal identifiers ({kinds}); going on because of {ALLOW_FLAG}",
          file=sys.stderr)
    return record


def stop_message(findings: Sequence[Finding], names_listed: bool) -> str:
    """A first line that says what to do, then one masked line per finding (at most 10, then a count)."""
    n = len(findings)
    head = (f"personal data in the data this command reads ({n} finding{'s' if n != 1 else ''}, values masked): "
            f"remove or replace {'them' if n != 1 else 'it'}, or pass {ALLOW_FLAG} to go on, which is recorded"
            + ("" if names_listed else "; names of people are looked for only with privacy.names: FILE"))
    return "\n".join([head, *(f"  {line}" for line in report_lines(findings))])


def refuse_canaries(cfg: TrialConfig) -> None:
    """One line, when ``cfg`` trains made-up identity numbers into the adapter."""
    if cfg.privacy.canaries:
        raise StudyError(
            f"this configuration trains {cfg.privacy.canaries} canaries (privacy.canaries), made-up identity numbers "
            "put in to measure memorisation: it is never exported or merged; set privacy.canaries: 0 and train that")
