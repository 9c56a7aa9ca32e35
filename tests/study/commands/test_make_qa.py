from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from study.finetune.data import BUNDLED_CORPUS, read_jsonl
from study.make_qa import Passage, main, parse_pairs, passages, select_pairs


def test_parse_pairs_reads_q_and_a_lines():
    reply = "Q: What is given first?\nA: Induction therapy.\n\nQ: Why?\nA: To prevent early\nrejection."
    assert parse_pairs(reply) == [("What is given first?", "Induction therapy."), ("Why?", "To prevent early rejection.")]


def test_select_pairs_filters_copies_duplicates_and_caps_per_passage():
    p = Passage("Tacrolimus is a calcineurin inhibitor that needs trough level monitoring in every patient.", "a.txt")
    reply = (
        "Q: What kind of drug is tacrolimus?\nA: A calcineurin inhibitor.\n"
        "Q: What kind of drug is tacrolimus?\nA: Duplicate.\n"                       # duplicate question
        "Q: What does tacrolimus need?\nA: What does tacrolimus need?\n"            # answer copies the question
        "Q: Is the whole passage an answer?\nA: " + p.text + "\n"                  # copies the passage
        "Q: What is monitored for tacrolimus?\nA: Trough levels.\n"
        "Q: One more question here?\nA: Over the cap.\n"
    )
    pairs = select_pairs([(p, reply)], per_passage=2)
    assert [x["question"] for x in pairs] == ["What kind of drug is tacrolimus?", "What is monitored for tacrolimus?"]
    assert all(x["context"] == p.text and x["source"] == "a.txt" for x in pairs)


def test_bundled_corpus_splits_into_passages():
    chunks = passages(BUNDLED_CORPUS)
    assert len(chunks) >= 20
    sizes = [len(c.text.split()) for c in chunks]
    assert max(sizes) <= 250 and sum(s >= 40 for s in sizes) >= 0.9 * len(sizes)
    corpus_words = sum(len((BUNDLED_CORPUS / name).read_text().split()) for name in {c.source for c in chunks})
    assert sum(sizes) == corpus_words  # no text lost


class _ChatServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible /chat/completions endpoint on loopback; ``reply`` writes the answer to a prompt."""

    def reply(self, prompt: str) -> str:
        raise NotImplementedError

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = json.dumps({"choices": [{"message": {"content": self.reply(body["messages"][0]["content"])}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class _Endpoint(_ChatServer):
    def reply(self, prompt: str) -> str:
        first = prompt.split("Passage:\n", 1)[1].split()[0]
        return f"Q: What does the passage starting with {first} cover?\nA: It covers {first}."


def test_endpoint_run_writes_jsonl_that_study_run_reads_and_warns(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(("Alpha " + "word " * 50) + "\n\n" + ("Beta " + "word " * 50))
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "qa.jsonl"
        code = main(["--text", str(docs), "--out", str(out), "--endpoint", f"http://127.0.0.1:{server.server_port}/v1"])
    finally:
        server.shutdown()
    assert code == 0
    assert "will be sent to" in capsys.readouterr().err
    pairs = read_jsonl(out)
    assert [p.answer for p in pairs] == ["It covers Alpha.", "It covers Beta."]
    assert all(json.loads(line)["source"] == "a.txt" for line in out.read_text().splitlines())


def test_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["--text", str(tmp_path / "absent"), "--out", str(tmp_path / "x.jsonl"), "--endpoint", "http://x"]) == 2
    assert "corpus directory not found" in capsys.readouterr().err


@pytest.mark.slow
def test_local_model_run_produces_a_valid_file(tmp_path, tiny_model_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Heart transplant " + "text " * 60)
    out = tmp_path / "qa.jsonl"
    assert main(["--text", str(docs), "--out", str(out), "--model", str(tiny_model_dir), "--max-new-tokens", "8"]) == 0
    assert out.is_file()  # a random tiny model rarely writes valid pairs: the file may be empty but exists


class _Paraphraser(_ChatServer):
    """Rewords a question as a careless model might: a copy, a synonym swap, the answer, then two real rewordings."""

    def reply(self, prompt: str) -> str:
        question = prompt.split("Question: ", 1)[1].split("\nAnswer: ", 1)[0]
        answer = prompt.split("\nAnswer: ", 1)[1]
        topic = question.rstrip("?").split()[-1]
        lines = [
            f"Q: {question}",                                   # the question itself
            f"Q: {question.replace('What', 'Which')}",          # one word swapped
            f"Q: Is it true that {answer.rstrip('.')}?",        # gives the answer away
            f"Q: Name the thing that {topic} refers to, in a clinic",
            f"Q: When someone mentions {topic}, what do they mean",
            f"Q: Explain {topic} to a new nurse",
        ]
        return "\n".join(lines)


def test_paraphrase_drafts_a_probe_file_that_studies_read(tmp_path, capsys):
    from study.core.config import DataConfig
    from study.finetune.data import load_splits
    from study.finetune.knowledge import load_probes

    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps({"question": f"What is drug number {i}?", "answer": f"Drug {i} is an immune suppressant."})
                          + "\n" for i in range(12)))
    server = HTTPServer(("127.0.0.1", 0), _Paraphraser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "probes.jsonl"
        code = main(["--paraphrase", str(qa), "--out", str(out), "--variants", "1",
                     "--endpoint", f"http://127.0.0.1:{server.server_port}/v1"])
    finally:
        server.shutdown()
    assert code == 0
    captured = capsys.readouterr()
    assert "12 QA pairs will be sent to" in captured.err
    assert "probes for 12 of 12 pairs" in captured.out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # the copy, the one-word swap and the answer are dropped: the probe is the first real rewording
    assert rows[0] == {"question": "What is drug number 0?", "probe": "Name the thing that 0 refers to, in a clinic",
                       "variants": ["When someone mentions 0, what do they mean"]}
    cfg = DataConfig(path=str(qa), probes=str(out))
    splits = load_splits(cfg)
    probes = load_probes(cfg, splits)
    assert len(probes.seen) == len(splits.train) and len(probes.unseen) == len(splits.val)


def test_paraphrase_keeps_ids_and_never_repeats_another_pairs_question():
    from study.finetune.data import QAPair
    from study.make_qa import select_rewordings

    a = QAPair("Which organ is replaced in a heart transplant?", "The heart.", id="ht-1")
    b = QAPair("What rejects a transplanted organ?", "The immune system.")
    reply_a = "Q: What rejects a transplanted organ?\nQ: In a cardiac transplant, what organ is swapped out"
    rows = select_rewordings([(a, reply_a), (b, "Q: rejects\nQ: Which part of the body attacks a graft")],
                             [a.question, b.question], variants=0)
    assert rows == [{"id": "ht-1", "probe": "In a cardiac transplant, what organ is swapped out", "variants": []},
                    {"question": b.question, "probe": "Which part of the body attacks a graft", "variants": []}]


def test_paraphrase_of_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["--paraphrase", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "p.jsonl"),
                 "--endpoint", "http://x"]) == 2
    err = capsys.readouterr().err
    assert "absent.jsonl: data file not found" in err and "Traceback" not in err


def test_the_bundled_probes_pass_the_filters_drafts_get():
    from study.finetune.data import BUNDLED_QA
    from study.finetune.knowledge import BUNDLED_PROBES
    from study.make_qa import keep_rewording

    pairs = {p.id: p for p in read_jsonl(BUNDLED_QA)}
    others = {" ".join(p.question.lower().split()) for p in pairs.values()}
    rows = [json.loads(line) for line in BUNDLED_PROBES.read_text().splitlines()]
    assert all(keep_rewording(text, pairs[row["id"]], others) for row in rows for text in [row["probe"], *row["variants"]])


@pytest.mark.slow
def test_local_model_paraphrase_run_writes_a_file(tmp_path, tiny_model_dir, qa_file):
    out = tmp_path / "probes.jsonl"
    assert main(["--paraphrase", str(qa_file), "--out", str(out), "--model", str(tiny_model_dir),
                 "--max-new-tokens", "8"]) == 0
    assert out.is_file()  # a random tiny model writes no usable rewording: the file may be empty but exists


class _Leaky(_ChatServer):
    def reply(self, prompt: str) -> str:
        return "Q: Which patient does the passage describe in detail?\nA: The patient reachable at anna@clinic.example.se."


def test_personal_data_in_the_documents_or_the_output_stops_before_anything_is_written(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Ward notes. " + "word " * 50 + "\n\nCall 070-123 45 67 for the ward.\n")
    out = tmp_path / "qa.jsonl"
    assert main(["--text", str(docs), "--out", str(out), "--endpoint", "http://127.0.0.1:9/v1"]) == 2
    err = capsys.readouterr().err
    assert f"{docs / 'a.txt'}:3: phone 0**-*** ** **" in err and "123 45 67" not in err
    assert "will be sent" not in err and not out.exists()  # stopped before the text could leave

    (docs / "a.txt").write_text("Ward notes. " + "word " * 50 + "\n")
    server = HTTPServer(("127.0.0.1", 0), _Leaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        assert main(["--text", str(docs), "--out", str(out), "--endpoint", url]) == 2
        err = capsys.readouterr().err
        assert f"{out} (not written):1: email a***@******.*******.**" in err and not out.exists()
        assert main(["--text", str(docs), "--out", str(out), "--endpoint", url, "--allow-personal-data"]) == 0
    finally:
        server.shutdown()
    assert "going on because of --allow-personal-data" in capsys.readouterr().err and out.is_file()
