"""Knowledge probes: the facts of QA pairs asked again in other words, and paraphrase augmentation.

A probe file is JSONL, one object per QA pair: ``{"id": ..., "probe": ..., "variants": [...]}``
(or ``"question"`` instead of ``"id"`` to link by the pair's question text; a single
``"variant"`` string is read as one variant). ``probe`` asks for the pair's fact in other
words and is never trained on; ``variants`` are further phrasings that training may add
(``data.augment``). The bundled file covers the 380 bundled pairs (``study/bundled``).

Probes of pairs in the training split measure whether a trial learned the facts it was
shown, in a form it can retrieve when asked differently (``probe_seen_*``); probes of
validation pairs measure generalisation (``probe_unseen_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from study.core.config import DataConfig
from study.core.errors import StudyError
from study.finetune.data import DATA_DIR, QAPair, Splits, jsonl_objects, question_key

BUNDLED_PROBES = DATA_DIR / "heart_transplant_probes.jsonl"
KINDS = ("seen", "unseen")  # probes of training pairs, of validation pairs


@dataclass(frozen=True)
class Probe:
    """One pair's fact asked in other words (``question``), and phrasings training may use."""

    pair: QAPair
    question: str
    variants: tuple[str, ...] = ()

    def as_pair(self) -> QAPair:
        """The probe as a QA pair: its own question, the linked pair's reference answer."""
        return QAPair(self.question, self.pair.answer, self.pair.context, self.pair.id)


@dataclass(frozen=True)
class ProbeSets:
    """The probes of the training pairs (seen) and of the validation pairs (unseen), in split order."""

    seen: tuple[Probe, ...]
    unseen: tuple[Probe, ...]
    source: str

    def of(self, kind: str) -> tuple[Probe, ...]:
        return self.seen if kind == "seen" else self.unseen


def probes_path(cfg: DataConfig) -> Path | None:
    """The probe file of a data config: its own, the bundled one for the bundled data, or None."""
    if cfg.probes:
        return Path(cfg.probes)
    return BUNDLED_PROBES if cfg.path is None else None


def load_probes(cfg: DataConfig, splits: Splits) -> ProbeSets:
    """The probes of ``splits``' training and validation pairs; a clear error where there are none."""
    path = probes_path(cfg)
    if path is None:
        raise StudyError("knowledge probes need a probe file for your data: set data.probes: PATH (JSONL of "
                         '{"id" or "question", "probe", "variants"}; python -m study.make_qa --paraphrase drafts one)')
    pairs = [*splits.train, *splits.val, *splits.test]
    probes = link_probes(read_probes(path), pairs, path)
    seen = tuple(probes[p] for p in splits.train if p in probes)
    unseen = tuple(probes[p] for p in splits.val if p in probes)
    if not seen:
        raise StudyError(f"{path}: no probe links to a training pair of {splits.source}")
    return ProbeSets(seen, unseen, str(path))


def read_probes(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The probe file's objects with their line numbers; a bad line stops with file and line."""
    rows = [(number, _checked(obj, f"{path}:{number}")) for number, obj in jsonl_objects(path, "probe file", "a probe")]
    if not rows:
        raise StudyError(f"{path}: no probes (the file is empty)")
    return rows


def _checked(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise StudyError(f'{where}: expected an object like {{"id": ..., "probe": ...}}, got {type(obj).__name__}')
    if "id" not in obj and "question" not in obj:
        raise StudyError(f"{where}: needs 'id' or 'question' to name its QA pair")
    probe = obj.get("probe")
    if not isinstance(probe, str) or not probe.strip():
        raise StudyError(f"{where}: field 'probe' must be a non-empty string")
    variants = obj.get("variants", [obj["variant"]] if "variant" in obj else [])
    if isinstance(variants, str):
        variants = [variants]
    if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
        raise StudyError(f"{where}: field 'variants' must be a list of non-empty strings")
    return {**obj, "probe": probe.strip(), "variants": [v.strip() for v in variants]}


def link_probes(rows: Sequence[tuple[int, dict[str, Any]]], pairs: Sequence[QAPair],
                path: Path) -> dict[QAPair, Probe]:
    """Each probe linked to its pair by id or question text; probes of pairs not in ``pairs`` are skipped.

    Refuses, naming the line, a probe that repeats its pair's question or another pair's
    (it would be trained on), and a variant that repeats any probe's wording.
    """
    by_id = {p.id: p for p in pairs if p.id is not None}
    by_question = {question_key(p.question): p for p in pairs}
    probe_lines = {question_key(obj["probe"]): number for number, obj in rows}
    out: dict[QAPair, Probe] = {}
    for number, obj in rows:
        where = f"{path}:{number}"
        pair = by_id.get(str(obj["id"])) if "id" in obj else by_question.get(question_key(str(obj["question"])))
        if pair is None:
            continue
        probe = obj["probe"]
        if question_key(probe) in by_question:
            raise StudyError(f"{where}: the probe repeats the question of a QA pair word for word; "
                             "a probe must ask in other words (it would be trained on)")
        for variant in obj["variants"]:
            if question_key(variant) in probe_lines:
                raise StudyError(f"{where}: a variant repeats the probe on line {probe_lines[question_key(variant)]}: "
                                 "training must never see a probe's wording")
        out[pair] = Probe(pair, probe, tuple(obj["variants"]))
    return out


def augment(train: Sequence[QAPair], probes: ProbeSets, n: int) -> list[QAPair]:
    """The training pairs, each followed by up to ``n`` of its variants (same answer, other question)."""
    if n == 0:
        return list(train)
    variants = {probe.pair: probe.variants for probe in probes.seen}
    out: list[QAPair] = []
    for pair in train:
        out.append(pair)
        out += [replace(pair, question=v) for v in variants.get(pair, ())[:n]]
    return out
