"""Retrieval as a searched alternative to fine-tuning: BM25 passages put before the question.

The corpus (``retrieval.corpus``, default the bundled heart-transplant corpus) is cut into
passages of about ``passage_words`` words along paragraph and sentence ends, indexed once
per process with ``bm25s`` (sparse-matrix BM25, numpy only), and each question's ``top_k``
passages become the pair's ``context``, which the prompt puts before the question
(:func:`study.finetune.data.prompt_messages`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from study.finetune.data import QAPair, read_corpus

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def passages(texts: Sequence[str], words: int) -> list[str]:
    """The texts cut into passages of about ``words`` words, never across a paragraph.

    Sentences are kept whole: a passage closes once it holds ``words`` words; a paragraph's
    short tail joins its last passage rather than standing alone.
    """
    out: list[str] = []
    for text in texts:
        for paragraph in re.split(r"\n\s*\n", text):
            sentences = [s for s in _SENTENCE_END.split(" ".join(paragraph.split())) if s]
            current: list[str] = []
            count = 0
            chunks: list[str] = []
            for sentence in sentences:
                current.append(sentence)
                count += len(sentence.split())
                if count >= words:
                    chunks.append(" ".join(current))
                    current, count = [], 0
            if current:
                tail = " ".join(current)
                if chunks and count < words // 2:
                    chunks[-1] += " " + tail
                else:
                    chunks.append(tail)
            out += chunks
    return out


class Retriever:
    """BM25 over passages; :meth:`search` returns the ``k`` best passages of a question."""

    def __init__(self, passages: Sequence[str]) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG

        self.passages = list(passages)
        self._bm25 = bm25s.BM25()
        self._bm25.index(_tokens(self.passages), show_progress=False)

    @classmethod
    def from_corpus(cls, corpus: str | None, passage_words: int) -> "Retriever":
        return cls(passages(read_corpus(corpus), passage_words))

    def search(self, questions: Sequence[str], k: int) -> list[list[str]]:
        """The ``k`` best passages of each question, best first."""
        if not questions or k == 0:
            return [[] for _ in questions]
        k = min(k, len(self.passages))
        ids, _ = self._bm25.retrieve(_tokens(questions), k=k, show_progress=False, n_threads=1)
        return [[self.passages[int(i)] for i in row] for row in ids]

    def with_context(self, pairs: Sequence[QAPair], k: int) -> list[QAPair]:
        """The pairs with their question's passages as context (numbered, best first)."""
        found = self.search([p.question for p in pairs], k)
        return [replace(p, context=_context(hits, p.context)) for p, hits in zip(pairs, found)]


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="english", return_ids=False, show_progress=False)


def _context(hits: Sequence[str], own: str | None) -> str:
    lines = [f"[{i}] {text}" for i, text in enumerate(hits, start=1)]
    if own:
        lines.append(own)
    return "Background:\n" + "\n".join(lines)
