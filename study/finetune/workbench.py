"""What every trial of a process shares, loaded once: base model, data splits, token cache, BERTScore encoder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import objectives
from study.core.config import DataConfig, RetrievalConfig, TrialConfig
from study.finetune.data import QAPair, Splits, TokenCache, load_splits
from study.finetune.model import BaseModel, load_base_model


@dataclass
class Workbench:
    """The base model, data, token cache and BERTScore encoder of one process; trials borrow them."""

    base: BaseModel
    splits: Splits
    tokens: TokenCache
    bertscorer: objectives.BertScorer | None
    _quizzes: dict[int, tuple[Any, float]] = field(default_factory=dict)
    _probes: dict[tuple, Any] = field(default_factory=dict)
    _retrievers: dict[tuple, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, cfg: TrialConfig, allow_hub: bool = False, bertscore: bool = True) -> "Workbench":
        splits = load_splits(cfg.data)
        base = load_base_model(cfg.model, allow_hub=allow_hub)
        scorer = objectives.BertScorer(cfg.evaluation.bertscore_model, device=base.device) if bertscore else None
        return cls(base=base, splits=splits, tokens=TokenCache(base.tokenizer), bertscorer=scorer)

    def quiz(self, n_questions: int) -> tuple[Any, list[float]]:
        """The first ``n_questions`` of the general-medicine quiz and which of them the base model answers right.

        Made once per process: the base model's answers are the reference every trial's forgetting
        is measured against, question by question.
        """
        if n_questions not in self._quizzes:
            from study.finetune.forgetting import Quiz, read_quiz

            quiz = Quiz(self.base.tokenizer, read_quiz()[:n_questions], system_prompt=None)
            self._quizzes[n_questions] = (quiz, quiz.correct(self.base.model))
        return self._quizzes[n_questions]

    def probes(self, data: DataConfig) -> Any:
        """The knowledge probes of this process's splits (:class:`study.finetune.knowledge.ProbeSets`), read once."""
        key = (data.path, data.probes)
        if key not in self._probes:
            from study.finetune.knowledge import load_probes

            self._probes[key] = load_probes(data, self.splits)
        return self._probes[key]

    def retriever(self, cfg: RetrievalConfig) -> Any:
        """The BM25 index of a corpus (:class:`study.finetune.retrieval.Retriever`), built once per process."""
        key = (cfg.corpus, cfg.passage_words)
        if key not in self._retrievers:
            from study.finetune.retrieval import Retriever

            self._retrievers[key] = Retriever.from_corpus(cfg.corpus, cfg.passage_words)
        return self._retrievers[key]

    def with_retrieval(self, pairs: list[QAPair], cfg: RetrievalConfig) -> list[QAPair]:
        """``pairs`` with their passages as context where retrieval is on; as they are otherwise."""
        return self.retriever(cfg).with_context(pairs, cfg.top_k) if cfg.top_k else pairs
