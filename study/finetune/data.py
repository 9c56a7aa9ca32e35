"""QA data: reading and validating JSONL, the seeded split, chat formatting, tokenising once.

A data source is either one JSONL file of ``{"question", "answer"[, "context"]}`` objects,
split by seed into train/val/test with every copy of a question kept in one split, or a
directory holding ``train.jsonl``, ``val.jsonl`` and ``test.jsonl``. With no path the bundled
heart-transplant set (``study/bundled/heart_transplant_qa.jsonl``) is used.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from study.core.config import DataConfig
from study.core.errors import StudyError

DATA_DIR = Path(__file__).resolve().parents[1] / "bundled"
BUNDLED_QA = DATA_DIR / "heart_transplant_qa.jsonl"
BUNDLED_CORPUS = DATA_DIR / "corpus"
CORPUS_SUFFIXES = (".txt", ".md")
SPLIT_FILES = ("train.jsonl", "val.jsonl", "test.jsonl")
IGNORE_INDEX = -100  # label of tokens left out of the loss
MAX_LINE_CHARS = 100_000  # a QA pair longer than this is a broken file, not a question


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    context: str | None = None
    id: str | None = None  # a stable name of the pair (the bundled set's "ht-001"); links it to its probes


@dataclass(frozen=True)
class Splits:
    train: tuple[QAPair, ...]
    val: tuple[QAPair, ...]
    test: tuple[QAPair, ...]
    source: str

    def fingerprint(self) -> str:
        """A short hash of every pair in its split: equal exactly when trials train and score on the same text."""
        import hashlib

        parts = {name: [[p.question, p.answer, p.context] for p in pairs]
                 for name, pairs in (("train", self.train), ("val", self.val), ("test", self.test))}
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:16]

    def counts(self) -> str:
        return f"{len(self.train)}/{len(self.val)}/{len(self.test)}"


def read_jsonl(path: Path) -> list[QAPair]:
    """Read QA pairs; a bad line stops with the file and line number in the message."""
    pairs = [_pair(obj, f"{path}:{number}") for number, obj in jsonl_objects(path, "data file", "a QA pair")]
    if not pairs:
        raise StudyError(f"{path}: no QA pairs (the file is empty)")
    return pairs


def jsonl_objects(path: Path, kind: str, item: str) -> list[tuple[int, Any]]:
    """The parsed lines of a UTF-8 JSONL file with their line numbers; blank lines skipped.

    A missing file, bad bytes, an overlong line or invalid JSON stops with one line naming the
    file (as ``kind``, e.g. "data file") and line; ``item`` names what a line holds.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StudyError(f"{path}: {kind} not found") from None
    except IsADirectoryError:
        raise StudyError(f"{path}: is a directory without {', '.join(SPLIT_FILES)}") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (what spreadsheet exports write) is not data
    except UnicodeDecodeError as exc:
        raise StudyError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise StudyError(
                f"{path}:{number}: line of {len(line):,} characters; {item} may have at most {MAX_LINE_CHARS:,}"
            )
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise StudyError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    return rows


def _pair(obj: Any, where: str) -> QAPair:
    if not isinstance(obj, dict):
        raise StudyError(f'{where}: expected an object like {{"question": ..., "answer": ...}}, got {type(obj).__name__}')
    for key in ("question", "answer"):
        if key not in obj:
            raise StudyError(f"{where}: missing field '{key}'")
        if not isinstance(obj[key], str):
            raise StudyError(f"{where}: field '{key}' must be a string, got {type(obj[key]).__name__}")
        if not obj[key].strip():
            raise StudyError(f"{where}: field '{key}' is empty")
    context = obj.get("context")
    if context is not None and not isinstance(context, str):
        raise StudyError(f"{where}: field 'context' must be a string, got {type(context).__name__}")
    pair_id = obj.get("id")
    if pair_id is not None and not isinstance(pair_id, (str, int)):
        raise StudyError(f"{where}: field 'id' must be a string, got {type(pair_id).__name__}")
    return QAPair(obj["question"].strip(), obj["answer"].strip(), context.strip() if context else None,
                  None if pair_id is None else str(pair_id))


def _key(pair: QAPair) -> str:
    return question_key(pair.question)


def question_key(question: str) -> str:
    """A question as compared for identity: case and spacing ignored."""
    return " ".join(question.lower().split())


def split_pairs(pairs: Sequence[QAPair], seed: int, val_fraction: float, test_fraction: float) -> tuple[list[QAPair], ...]:
    """Seeded split by distinct question: copies of a question never land in two splits."""
    groups: dict[str, list[QAPair]] = {}
    for pair in pairs:
        groups.setdefault(_key(pair), []).append(pair)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_val = round(len(keys) * val_fraction)
    n_test = round(len(keys) * test_fraction)
    if len(keys) - n_val - n_test < 1 or (val_fraction > 0 and n_val < 1):
        raise StudyError(
            f"{len(keys)} distinct questions are too few to split with val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}"
        )
    parts = (keys[n_val + n_test :], keys[:n_val], keys[n_val : n_val + n_test])
    return tuple([p for k in part for p in groups[k]] for part in parts)


def load_splits(cfg: DataConfig) -> Splits:
    """The train/val/test pairs named by ``cfg``, capped by ``max_train_examples`` / ``max_val_examples``."""
    path = Path(cfg.path) if cfg.path else BUNDLED_QA
    if path.is_dir():
        missing = [name for name in SPLIT_FILES if not (path / name).is_file()]
        if missing:
            raise StudyError(f"{path}: directory lacks {', '.join(missing)} (expected {', '.join(SPLIT_FILES)})")
        train, val, test = (read_jsonl(path / name) for name in SPLIT_FILES)
        _check_leakage(path, {"train": train, "val": val, "test": test})
    else:
        train, val, test = split_pairs(read_jsonl(path), cfg.split_seed, cfg.val_fraction, cfg.test_fraction)
    if cfg.max_train_examples is not None:
        train = train[: cfg.max_train_examples]
    if cfg.max_val_examples is not None:
        val = val[: cfg.max_val_examples]
    return Splits(tuple(train), tuple(val), tuple(test), source=str(path))


def _check_leakage(path: Path, splits: dict[str, list[QAPair]]) -> None:
    seen: dict[str, str] = {}
    for name, pairs in splits.items():
        for pair in pairs:
            other = seen.setdefault(_key(pair), name)
            if other != name:
                raise StudyError(f"{path}: question {pair.question[:60]!r} is in both {other}.jsonl and {name}.jsonl")


def read_corpus(path: str | Path | None) -> list[str]:
    """The texts of a corpus directory (.txt and .md files, sorted by name); none = bundled corpus."""
    folder = Path(path) if path else BUNDLED_CORPUS
    if not folder.is_dir():
        raise StudyError(f"{folder}: corpus directory not found")
    files = sorted(p for p in folder.iterdir() if p.suffix in CORPUS_SUFFIXES and p.is_file())
    if not files:
        raise StudyError(f"{folder}: no .txt or .md files")
    texts = []
    for file in files:
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise StudyError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    return texts


def corpus_blocks(tokenizer: Any, texts: Sequence[str], block_size: int, max_blocks: int | None) -> list[dict[str, list[int]]]:
    """Documents joined with end-of-sequence tokens and cut into blocks of ``block_size`` tokens.

    Causal-LM examples: every token is a label (``labels == input_ids``).
    """
    stream: list[int] = []
    for text in texts:
        stream += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    blocks = [stream[i : i + block_size] for i in range(0, len(stream) - block_size + 1, block_size)]
    if max_blocks is not None:
        blocks = blocks[:max_blocks]
    return [{"input_ids": b, "labels": list(b)} for b in blocks]


def prompt_messages(pair: QAPair, system_prompt: str | None) -> list[dict[str, str]]:
    """Chat messages up to the assistant turn."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    user = f"{pair.context}\n\nQuestion: {pair.question}" if pair.context else pair.question
    messages.append({"role": "user", "content": user})
    return messages


def encode_prompt(tokenizer: Any, pair: QAPair, system_prompt: str | None) -> list[int]:
    """Token ids of the prompt, ending with the template's assistant header."""
    return list(
        tokenizer.apply_chat_template(
            prompt_messages(pair, system_prompt), add_generation_prompt=True, tokenize=True, return_dict=False
        )
    )


def encode_example(tokenizer: Any, pair: QAPair, system_prompt: str | None, max_length: int) -> dict[str, list[int]]:
    """``input_ids`` of prompt + answer, and ``labels`` that keep the answer tokens only (loss on answers)."""
    prompt = encode_prompt(tokenizer, pair, system_prompt)
    messages = prompt_messages(pair, system_prompt) + [{"role": "assistant", "content": pair.answer}]
    full = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False))
    if full[: len(prompt)] != prompt:
        # Templates that rewrite earlier turns: fall back to prompt + answer + end-of-sequence.
        answer = tokenizer(pair.answer, add_special_tokens=False)["input_ids"]
        full = prompt + answer + [tokenizer.eos_token_id]
    full = full[:max_length]
    labels = [IGNORE_INDEX] * min(len(prompt), len(full)) + full[len(prompt) :]
    return {"input_ids": full, "labels": labels}


class TokenCache:
    """Tokenised splits, made once per process and reused by every trial with the same prompt settings."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._cache: dict[tuple, Any] = {}

    def train_dataset(self, pairs: Sequence[QAPair], system_prompt: str | None, max_length: int) -> Any:
        """A ``datasets.Dataset`` with ``input_ids`` and ``labels``, ready for TRL without re-tokenising."""
        key = ("train", tuple(pairs), system_prompt, max_length)
        if key not in self._cache:
            from datasets import Dataset

            rows = [encode_example(self.tokenizer, p, system_prompt, max_length) for p in pairs]
            self._cache[key] = Dataset.from_list(rows)
        return self._cache[key]

    def corpus_dataset(self, corpus: str | None, block_size: int, max_blocks: int | None) -> Any:
        """The pre-training corpus in blocks, as a ``datasets.Dataset``; read and tokenised once."""
        key = ("corpus", corpus, block_size, max_blocks)
        if key not in self._cache:
            from datasets import Dataset

            blocks = corpus_blocks(self.tokenizer, read_corpus(corpus), block_size, max_blocks)
            if not blocks:
                raise StudyError(f"corpus {corpus or BUNDLED_CORPUS}: shorter than one block of {block_size} tokens")
            self._cache[key] = Dataset.from_list(blocks)
        return self._cache[key]

    def examples(self, pairs: Sequence[QAPair], system_prompt: str | None, max_length: int) -> list[dict[str, list[int]]]:
        key = ("examples", tuple(pairs), system_prompt, max_length)
        if key not in self._cache:
            self._cache[key] = [encode_example(self.tokenizer, p, system_prompt, max_length) for p in pairs]
        return self._cache[key]

    def prompts(self, pairs: Sequence[QAPair], system_prompt: str | None) -> list[list[int]]:
        key = ("prompts", tuple(pairs), system_prompt)
        if key not in self._cache:
            self._cache[key] = [encode_prompt(self.tokenizer, p, system_prompt) for p in pairs]
        return self._cache[key]
