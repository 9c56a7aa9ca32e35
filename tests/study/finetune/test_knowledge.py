"""Knowledge probes, paraphrase augmentation and retrieval: linking, the split, never training on a probe."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from study.core.config import DataConfig
from study.core.errors import StudyError
from study.finetune.data import load_splits, question_key
from study.finetune.knowledge import augment, load_probes
from study.finetune.retrieval import Retriever, passages


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def user_probes(path, n=20, **extra):
    """Probes of the conftest ``qa_file`` pairs, linked by question text."""
    return write_jsonl(path, [{"question": f"What is fact number {i} about the heart?",
                               "probe": f"Which heart fact carries the number {i}?",
                               "variants": [f"Tell me heart fact {i}, please?", f"Heart fact {i} is what?"], **extra}
                              for i in range(n)])


def test_bundled_probes_follow_the_split_seen_for_training_pairs_unseen_for_validation_pairs():
    cfg = DataConfig(max_train_examples=32)
    splits = load_splits(cfg)
    probes = load_probes(cfg, splits)
    assert [p.pair for p in probes.seen] == list(splits.train)  # every bundled pair has a probe, in split order
    assert [p.pair for p in probes.unseen] == list(splits.val)
    assert not {p.pair for p in probes.seen} & set(splits.val)
    for probe in probes.seen + probes.unseen:
        assert question_key(probe.question) != question_key(probe.pair.question)
        assert probe.as_pair().answer == probe.pair.answer and probe.as_pair().question == probe.question


def test_augmentation_adds_the_variants_and_never_a_probe():
    cfg = DataConfig(max_train_examples=40)
    splits = load_splits(cfg)
    probes = load_probes(cfg, splits)
    trained = augment(list(splits.train), probes, 2)
    assert len(trained) == 3 * len(splits.train)
    assert augment(list(splits.train), probes, 0) == list(splits.train)
    assert len(augment(list(splits.train), probes, 1)) == 2 * len(splits.train)
    all_probes = {question_key(p.question) for p in load_probes(DataConfig(), load_splits(DataConfig())).seen}
    assert not {question_key(p.question) for p in trained} & all_probes
    answers = {p.question: p.answer for p in splits.train}
    for pair in trained[:6]:  # each variant keeps its pair's answer
        assert pair.answer in answers.values()


def test_user_probes_link_by_question_text(tmp_path, qa_file):
    cfg = DataConfig(path=str(qa_file), probes=str(user_probes(tmp_path / "probes.jsonl")))
    splits = load_splits(cfg)
    probes = load_probes(cfg, splits)
    assert [p.pair for p in probes.seen] == list(splits.train)
    assert len(probes.unseen) == len(splits.val) and probes.source.endswith("probes.jsonl")


def test_a_probe_that_repeats_a_question_or_a_variant_that_repeats_a_probe_is_refused_with_its_line(tmp_path, qa_file):
    rows = [{"question": f"What is fact number {i} about the heart?", "probe": f"Which heart fact is number {i}?"}
            for i in range(3)]
    rows[1]["probe"] = "what is FACT number 2 about the heart?"  # another pair's question, word for word
    bad = write_jsonl(tmp_path / "copy.jsonl", rows)
    cfg = DataConfig(path=str(qa_file), probes=str(bad))
    with pytest.raises(StudyError, match=r"copy.jsonl:2: the probe repeats the question"):
        load_probes(cfg, load_splits(cfg))
    rows[1]["probe"] = "Which heart fact is number one?"
    rows[2]["variants"] = ["which heart fact is  number 0?"]  # the first line's probe
    leak = write_jsonl(tmp_path / "leak.jsonl", rows)
    cfg = DataConfig(path=str(qa_file), probes=str(leak))
    with pytest.raises(StudyError, match=r"leak.jsonl:3: a variant repeats the probe on line 1"):
        load_probes(cfg, load_splits(cfg))


def test_user_data_without_a_probe_file_is_a_clear_error(qa_file):
    cfg = DataConfig(path=str(qa_file))
    with pytest.raises(StudyError, match="set data.probes"):
        load_probes(cfg, load_splits(cfg))


def test_retrieval_returns_the_planted_passage_for_a_question_built_from_it():
    filler = [f"Paragraph {i} talks about routine clinic visits, blood tests and the weather in spring." for i in range(40)]
    planted = "Everolimus may replace mycophenolate when cardiac allograft vasculopathy progresses despite statins."
    retriever = Retriever(filler[:20] + [planted] + filler[20:])
    hits = retriever.search(["Which drug can replace mycophenolate when allograft vasculopathy progresses?"], k=2)
    assert hits[0][0] == planted and len(hits[0]) == 2


def test_the_bundled_corpus_is_indexed_in_passages_that_answer_its_own_topics():
    retriever = Retriever.from_corpus(None, 50)
    assert len(retriever.passages) > 50
    (best,) = retriever.search(["Which calcineurin inhibitor is most often used after heart transplantation?"], k=1)
    assert "tacrolimus" in best[0].lower()
    pairs = retriever.with_context(list(load_splits(DataConfig(max_val_examples=2)).val), 2)
    assert all(p.context.startswith("Background:\n[1] ") and "\n[2] " in p.context for p in pairs)


def test_passages_keep_sentences_whole_and_never_cross_a_paragraph():
    text = "One two three four five. Six seven eight nine ten.\n\nA new paragraph here. Short."
    chunks = passages([text], 5)
    assert chunks == ["One two three four five.", "Six seven eight nine ten.", "A new paragraph here. Short."]


def test_a_knowledge_objective_without_probes_stops_before_anything_runs(tmp_path, qa_file):
    storage = tmp_path / "k.db"
    proc = subprocess.run([sys.executable, "-m", "study.run", "--space", "smoke", "--data", str(qa_file),
                           "--objectives", "knowledge_gain:max", "--storage", f"sqlite:///{storage}", "--no-progress"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "set data.probes" in proc.stderr
    assert "Traceback" not in proc.stderr and not storage.exists()


@pytest.mark.slow
def test_a_tiny_model_study_with_probes_augmentation_and_retrieval(tmp_path, tiny_model_dir, qa_file):
    import optuna

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "facts.txt").write_text("\n\n".join(f"Fact {i} says the heart has {i % 4 + 1} parts. It is fact {i}."
                                                  for i in range(20)), encoding="utf-8")
    import yaml

    from search_spaces import resolve_space_path

    space = yaml.safe_load(resolve_space_path("knowledge").read_text())  # the bundled space, made tiny
    space["training"]["epochs"] = {"choices": [0, 1]}
    space["pretraining"]["epochs"] = 0
    space["data"].update(max_seq_length=160, probes=str(user_probes(tmp_path / "p.jsonl")))
    space["retrieval"].update(corpus=str(corpus), passage_words=10)
    space["decoding"]["max_new_tokens"] = 6
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(space))
    storage = f"sqlite:///{tmp_path / 'k.db'}"
    args = ["--space", str(tmp_path / "tiny.yaml"), "--model", str(tiny_model_dir), "--data", str(qa_file),
            "--storage", storage, "--study-name", "k", "--no-progress"]
    proc = subprocess.run([sys.executable, "-m", "study.run", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="k", storage=storage)
    assert study.metric_names == ["knowledge_gain", "rougeL", "length_error"]
    base, *trials = sorted(study.trials, key=lambda t: t.number)
    assert base.user_attrs["reference"] == "base" and base.values[0] == 0.0  # the base gains nothing on itself
    n_seen = base.user_attrs["n_train"] if "n_train" in base.user_attrs else study.user_attrs["n_train"]
    assert len(base.user_attrs["per_question"]["probe_seen_rougeL"]) == n_seen  # one probe per training pair
    assert len(base.user_attrs["per_question"]["probe_unseen_rougeL"]) == study.user_attrs["n_val"]
    assert len(trials) == 8 and all(t.state.name == "COMPLETE" for t in trials)  # the grid: 2 x 2 x 2
    for t in trials:
        gain = t.user_attrs["knowledge_gain"]
        interval = t.user_attrs["intervals"]["knowledge_gain"]
        assert interval["low"] <= gain <= interval["high"] and gain == pytest.approx(t.values[0])
        assert gain == pytest.approx(t.user_attrs["probe_seen_rougeL"] - base.user_attrs["probe_seen_rougeL"])
        loss = t.user_attrs["intervals"]["knowledge_gain_loss"]
        assert loss["low"] <= t.user_attrs["knowledge_gain_loss"] <= loss["high"]
        params = t.params
        untrained = params["training.epochs"] == 0 and params["retrieval.top_k"] == 0
        if untrained:  # no tuning, no passages: the base model's answers again
            assert t.user_attrs["answers"] == base.user_attrs["answers"] and gain == 0.0
    report = subprocess.run([sys.executable, "-m", "study.report", "--study-name", "k", "--storage", storage,
                             "--out", str(tmp_path / "r.html")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "Style or knowledge?" in (tmp_path / "r.html").read_text()
