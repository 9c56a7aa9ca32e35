"""Turn documents into question-answer pairs, or QA pairs into knowledge probes, with a local model.

    python -m study.make_qa --text docs/ --out qa.jsonl                     # the bundled default model
    python -m study.make_qa --text docs/ --out qa.jsonl --model /models/Llama-3.1-8B-Instruct
    python -m study.make_qa --text docs/ --out qa.jsonl --endpoint http://127.0.0.1:8000/v1 --api-model NAME
    python -m study.make_qa --paraphrase qa.jsonl --out probes.jsonl       # draft probes for data.probes

Documents (.txt/.md) are cut into passages at blank lines (about 40-250 words each). For each
passage the model is asked for question/answer pairs in ``Q: ... A: ...`` form; pairs are
kept when both parts are present, the answer is not a copy of the question or of the whole
passage, and the question is new (after normalisation); at most ``--per-passage`` pairs per
passage. Each pair records its source passage (``context``) and file (``source``), and the
output is the JSONL that ``python -m study.run --data`` reads.

With ``--paraphrase`` the input is a QA file (or a directory of split files) and the model
is asked, for each pair, for the same question in other words. A rewording is kept when it
has at least three words, is not the pair's question (or any other pair's) after
normalisation, matches less than ``SAME_WORDING`` of the question's words in order (a
synonym swapped is not a probe), and does not give the answer away; the first kept one is the probe,
the next ``--variants`` are phrasings training may use (``data.augment``). Pairs without a
kept rewording are left out and counted. The output is the probe file ``data.probes`` reads,
linked by ``id`` where the pair has one, else by question text. Review it before use: a probe
is a claim that it asks for the same fact.

Before any model sees them, the documents (or QA pairs) are scanned for personal identifiers
(:mod:`study.core.personal_data`, with ``--patterns`` and ``--names``), and so is what the model
wrote before the output is written: a finding stops the command unless ``--allow-personal-data``.

With ``--endpoint`` the passages (or QA pairs) are sent to that OpenAI-compatible server: the
text leaves this machine. That is opt-in and a warning is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from study.cli import add_personal_data_flag, entry_point, quiet_libraries
from study.core.errors import StudyError
from study.finetune.data import SPLIT_FILES, QAPair, question_key, read_jsonl
from study.finetune.data_guard import guard_paths, guard_rows

PROMPT = (
    "Read the passage and write {n} question-answer pairs that a clinician could ask about it. "
    "Each answer is one or two sentences and uses only the passage. "
    "Format each pair on two lines:\nQ: <question>\nA: <answer>\n\nPassage:\n{passage}"
)
PARAPHRASE_PROMPT = (
    "Rewrite the question below {n} times. Each rewrite must ask for the same fact as the original, "
    "in different words and sentence structure, not the same sentence with one word swapped, and must not "
    "contain the answer. Write each rewrite on its own line, starting with 'Q:'.\n\n"
    "Question: {question}\nAnswer: {answer}"
)
SAME_WORDING = 0.75  # a rewording this close to the question's words in order is a copy, not a probe
QA_PATTERN = re.compile(r"Q\s*[:.]\s*(?P<q>.+?)\s*\n\s*A\s*[:.]\s*(?P<a>.+?)(?=\n\s*Q\s*[:.]|\Z)", re.S)


@dataclass(frozen=True)
class Passage:
    text: str
    source: str


def passages(folder: Path, min_words: int = 40, max_words: int = 250) -> list[Passage]:
    """Paragraphs of every .txt/.md file; short neighbours are merged, long ones cut at ``max_words``."""
    from study.finetune.data import read_corpus

    files = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md")) if folder.is_dir() else []
    texts = read_corpus(folder)
    out: list[Passage] = []
    for file, text in zip(files, texts):
        buffer: list[str] = []
        for para in re.split(r"\n\s*\n", text):
            words = para.split()
            if not words:
                continue
            buffer += words
            while len(buffer) >= min_words:
                out.append(Passage(" ".join(buffer[:max_words]), file.name))
                buffer = buffer[max_words:]
        if buffer:
            out.append(Passage(" ".join(buffer), file.name))
    return out


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``Q: ... A: ...`` pairs from a model's reply."""
    return [(m["q"].strip(), " ".join(m["a"].split())) for m in QA_PATTERN.finditer(text)]


def keep_pair(question: str, answer: str, passage: str) -> bool:
    """Drop empty parts, answers that repeat the question, and answers that copy most of the passage."""
    from objectives import normalize

    q, a = normalize(question), normalize(answer)
    if len(q.split()) < 3 or not a:
        return False
    if a == q or a in q:
        return False
    return len(a.split()) < 0.8 * len(normalize(passage).split())


def select_pairs(replies: Iterable[tuple[Passage, str]], per_passage: int) -> list[dict[str, str]]:
    """Filter, deduplicate across passages, and cap the pairs of each passage."""
    from objectives import normalize

    seen: set[str] = set()
    out = []
    for passage, reply in replies:
        kept = 0
        for question, answer in parse_pairs(reply):
            key = normalize(question)
            if kept >= per_passage or key in seen or not keep_pair(question, answer, passage.text):
                continue
            seen.add(key)
            kept += 1
            out.append({"question": question, "answer": answer, "context": passage.text, "source": passage.source})
    return out


def parse_questions(text: str) -> list[str]:
    """The ``Q: ...`` lines of a model's reply (one question per line)."""
    return [" ".join(m[1].split()) for m in re.finditer(r"^\s*Q\s*\d*\s*[:.]\s*(.+?)\s*$", text, re.MULTILINE)]


def wording_similarity(a: str, b: str) -> float:
    """How much of the two texts' normalised words match in order (difflib's ratio, 0 to 1)."""
    from difflib import SequenceMatcher

    from objectives import normalize

    return SequenceMatcher(None, normalize(a).split(), normalize(b).split(), autojunk=False).ratio()


def keep_rewording(rewording: str, pair: QAPair, taken: set[str]) -> bool:
    """A rewording that asks in other words: not too short, not a question already taken, not a copy, no answer."""
    from objectives import normalize

    text, answer = normalize(rewording), normalize(pair.answer)
    if len(text.split()) < 3 or question_key(rewording) in taken:
        return False
    if wording_similarity(rewording, pair.question) >= SAME_WORDING:
        return False
    return not (len(answer.split()) >= 2 and answer in text)


def select_rewordings(replies: Iterable[tuple[QAPair, str]], questions: Iterable[str],
                      variants: int) -> list[dict[str, Any]]:
    """Probe-file rows: for each pair with a kept rewording, the probe and up to ``variants`` more."""
    taken = {question_key(q) for q in questions}  # no rewording may repeat any pair's question
    rows = []
    for pair, reply in replies:
        kept: list[str] = []
        for rewording in parse_questions(reply):
            if len(kept) > variants:
                break
            if keep_rewording(rewording, pair, taken):
                taken.add(question_key(rewording))
                kept.append(rewording)
        if kept:
            link = {"id": pair.id} if pair.id is not None else {"question": pair.question}
            rows.append({**link, "probe": kept[0], "variants": kept[1:]})
    return rows


def read_pairs(path: Path) -> list[QAPair]:
    """The QA pairs of a file, or of a directory's split files."""
    if path.is_dir():
        return [pair for name in SPLIT_FILES for pair in read_jsonl(path / name)]
    return read_jsonl(path)


def local_generator(model_name: str, max_new_tokens: int, allow_hub: bool) -> Callable[[str], str]:
    """Answer prompts with a local instruct model (sampling off: repeatable)."""
    from study.core.config import DecodingConfig, ModelConfig
    from study.finetune.evaluation import generate_answers
    from study.finetune.model import load_base_model

    base = load_base_model(ModelConfig(name=model_name), allow_hub=allow_hub)
    decoding = DecodingConfig(max_new_tokens=max_new_tokens, batch_size=1, repetition_penalty=1.1)

    def generate(prompt: str) -> str:
        ids = base.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                 tokenize=True, return_dict=False)
        return generate_answers(base.model, base.tokenizer, [list(ids)], decoding)[0]

    return generate


def endpoint_generator(url: str, model: str, max_new_tokens: int, api_key: str | None) -> Callable[[str], str]:
    """Answer prompts through an OpenAI-compatible ``/chat/completions`` endpoint."""
    target = url.rstrip("/") + "/chat/completions"

    def generate(prompt: str) -> str:
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}],
                           "max_tokens": max_new_tokens, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        try:
            with urllib.request.urlopen(urllib.request.Request(target, body, headers), timeout=120) as resp:
                reply = json.load(resp)
            return reply["choices"][0]["message"]["content"]
        except (OSError, KeyError, IndexError, json.JSONDecodeError) as exc:
            raise StudyError(f"--endpoint {url}: request failed ({exc})") from None

    return generate


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.make_qa", description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="folder of .txt/.md documents: write QA pairs")
    source.add_argument("--paraphrase", metavar="QA_JSONL",
                        help="QA file (or directory of split files): write knowledge probes for data.probes")
    p.add_argument("--out", required=True, help="output JSONL")
    p.add_argument("--model", default="smollm2-135m", help="local instruct model (default: the bundled one)")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL; passages are SENT to it")
    p.add_argument("--api-model", default="default", help="model name for --endpoint")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the endpoint's key")
    p.add_argument("--per-passage", type=int, default=3, help="at most this many pairs per passage (default: 3)")
    p.add_argument("--variants", type=int, default=1,
                   help="with --paraphrase: training phrasings per pair besides the probe (default: 1)")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--allow-hub", action="store_true")
    add_personal_data_flag(p, patterns=True)
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)
    if args.per_passage < 1:
        raise StudyError(f"--per-passage must be >= 1, got {args.per_passage}")
    if args.variants < 0:
        raise StudyError(f"--variants must be >= 0, got {args.variants}")
    guard_paths([args.paraphrase or args.text], args.allow_personal_data, args.patterns, args.names)
    if args.paraphrase:
        return _write_probes(args, Path(args.paraphrase))
    return _write_pairs(args, passages(Path(args.text)))


def _generator(args: argparse.Namespace, what: str) -> Callable[[str], str]:
    import os

    if args.endpoint:
        print(f"warning: the text of {what} will be sent to {args.endpoint}", file=sys.stderr)
        return endpoint_generator(args.endpoint, args.api_model, args.max_new_tokens, os.environ.get(args.api_key_env))
    return local_generator(args.model, args.max_new_tokens, args.allow_hub)


def _write_pairs(args: argparse.Namespace, chunks: list[Passage]) -> int:
    from tqdm.auto import tqdm

    generate = _generator(args, f"{len(chunks)} passages")
    replies = [(passage, generate(PROMPT.format(n=args.per_passage, passage=passage.text)))
               for passage in tqdm(chunks, desc="passages", unit="passage")]
    pairs = select_pairs(replies, args.per_passage)
    _write_jsonl(Path(args.out), pairs, args)
    print(f"{len(pairs)} pairs from {len(chunks)} passages -> {args.out}")
    return 0


def _write_probes(args: argparse.Namespace, source: Path) -> int:
    from tqdm.auto import tqdm

    pairs = read_pairs(source)
    generate = _generator(args, f"{len(pairs)} QA pairs")
    replies = [(pair, generate(PARAPHRASE_PROMPT.format(n=args.variants + 2, question=pair.question,
                                                         answer=pair.answer)))
               for pair in tqdm(pairs, desc="pairs", unit="pair")]
    rows = select_rewordings(replies, (p.question for p in pairs), args.variants)
    _write_jsonl(Path(args.out), rows, args)
    short = sum(len(r["variants"]) < args.variants for r in rows)
    print(f"probes for {len(rows)} of {len(pairs)} pairs ({len(pairs) - len(rows)} without a kept rewording, "
          f"{short} with fewer than {args.variants} variants) -> {args.out}; review them before use")
    return 0


def _write_jsonl(out: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    guard_rows(rows, str(out), args.allow_personal_data, args.patterns, args.names)  # what the model wrote, too
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
