"""The bundled knowledge probes: one paraphrased question and two training variants per QA pair."""

from __future__ import annotations

import json
import string

from study.finetune.data import DATA_DIR

QA = DATA_DIR / "heart_transplant_qa.jsonl"
PROBES = DATA_DIR / "heart_transplant_probes.jsonl"


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def words(text: str) -> set[str]:
    return set(text.lower().translate(str.maketrans("", "", string.punctuation)).split())


def test_every_pair_has_a_stable_id_and_one_probe_linked_to_it():
    pairs, probes = read(QA), read(PROBES)
    ids = [p["id"] for p in pairs]
    assert len(set(ids)) == len(ids) == 380
    assert sorted(p["id"] for p in probes) == sorted(ids)


def test_no_probe_or_variant_repeats_its_pairs_question():
    questions = {p["id"]: p["question"] for p in read(QA)}
    for probe in read(PROBES):
        original = words(questions[probe["id"]])
        assert len(probe["variants"]) == 2, probe["id"]
        for field, text in [("probe", probe["probe"])] + [(f"variant {i}", v) for i, v in enumerate(probe["variants"])]:
            assert text.endswith("?") and words(text) != original, (probe["id"], field)
            overlap = len(words(text) & original) / len(words(text) | original)
            assert overlap <= 0.6, f"{probe['id']} {field} is a near copy of its question ({overlap:.2f})"
        for variant in probe["variants"]:  # training may see a variant: it must not be the probe
            overlap = len(words(variant) & words(probe["probe"])) / len(words(variant) | words(probe["probe"]))
            assert overlap < 0.7, f"{probe['id']}: a variant is a near copy of the probe ({overlap:.2f})"
