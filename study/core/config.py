"""What one fine-tune needs: frozen configuration sections and the :class:`TrialConfig` they make up.

Each field carries its help text and the values it accepts in its metadata
(:func:`study.core.fields.setting`), so that the YAML loader (here), ``--set`` and the
search-space loader (:mod:`search_spaces`) check values in one way and report every problem at
once. How a study searches (``study:``) is in :mod:`study.core.settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from study.core.errors import StudyError
from study.core.fields import build_section, check_section, describe_section, section, setting
from study.core.settings import StopSettings, StudySettings

SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
TARGET_MODULES = ("attention", "all_linear")
DEVICES = ("auto", "cpu", "cuda", "mps")
QUANTIZATIONS = ("none", "4bit")
#: System prompts of the searchable answer styles (data.answer_style).
STYLE_PROMPTS = {
    "concise": "You are a heart-transplant clinician. Answer in as few words as possible.",
    "one_sentence": "You are a heart-transplant clinician. Answer in exactly one sentence.",
    "explained": "You are a heart-transplant clinician. Answer in two sentences: the answer, then the reason.",
}
ANSWER_STYLES = tuple(STYLE_PROMPTS)
DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class ModelConfig:
    """Which base model to fine-tune and where it runs."""

    name: str = setting(DEFAULT_MODEL, "'smollm2-135m' (bundled), a local Hugging Face model directory, or a hub id")
    device: str = setting("auto", "'auto' uses CUDA when present, else the CPU", choices=DEVICES)
    trust_remote_code: bool = setting(False, "run Python code shipped with a hub model (off: only safe loading)")
    quantization: str = setting(
        "none", "'4bit': frozen base weights in 4-bit NF4 (QLoRA; CUDA and the qlora extra)", choices=QUANTIZATIONS
    )


@dataclass(frozen=True)
class DataConfig:
    """Where the QA pairs come from and how they are split."""

    path: str | None = setting(None, "JSONL file or directory with train/val/test.jsonl; none = bundled heart-transplant set")
    split_seed: int = setting(0, "seed of the train/val/test split of a single JSONL file", min=0)
    val_fraction: float = setting(0.1, "share of questions held out for validation (objectives)", min=0.0, max=0.5)
    test_fraction: float = setting(0.1, "share held out for the final test (scored at export only)", min=0.0, max=0.5)
    max_train_examples: int | None = setting(None, "use at most this many training pairs (none = all)", min=1)
    max_val_examples: int | None = setting(None, "score at most this many validation questions (none = all)", min=1)
    system_prompt: str | None = setting(
        "You are a heart-transplant clinician. Answer in one or two sentences.",
        "system message of the chat template (none = the model's own default)",
    )
    max_seq_length: int = setting(256, "longest prompt + answer in tokens; longer pairs are truncated", min=16)
    answer_style: str | None = setting(
        None, "a named system prompt that replaces system_prompt (searchable)", choices=ANSWER_STYLES
    )
    probes: str | None = setting(
        None, "JSONL of knowledge probes {id or question, probe, variants}; none = the bundled probes (bundled data only)"
    )
    augment: int = setting(
        0, "add this many paraphrased questions per training pair (the probes file's variants; never a probe)",
        min=0, max=10,
    )
    language: str | None = setting(
        None, "ISO 639-1 code of the QA pairs' language (en, sv, ru, zh, ...): how the metrics tokenise, stem and "
              "normalise; none = detected from the questions and answers when the study starts",
    )

    @property
    def instructions(self) -> str | None:
        """The system prompt in force: the answer style's when one is set."""
        return STYLE_PROMPTS[self.answer_style] if self.answer_style else self.system_prompt


@dataclass(frozen=True)
class PretrainConfig:
    """Optional continued pre-training of the adapter on plain domain text, before QA tuning."""

    epochs: int = setting(0, "passes over the corpus (0 = no continued pre-training)", min=0, max=20)
    learning_rate: float = setting(1e-4, "peak learning rate of the pre-training stage", min=1e-8, max=1.0)
    corpus: str | None = setting(None, "directory of .txt/.md files (none = the bundled heart-transplant corpus)")
    block_size: int = setting(128, "tokens per training chunk of the corpus", min=16)
    max_blocks: int | None = setting(None, "use at most this many chunks (none = all)", min=1)


@dataclass(frozen=True)
class JudgeConfig:
    """A judge of correctness and harm: any OpenAI-compatible chat server on the team's own machines."""

    endpoint: str | None = setting(
        None, "base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (none = no judge)")
    model: str | None = setting(None, "the judge model's name as the server knows it (vLLM --served-model-name, Ollama tag)")
    rubric: str | None = setting(None, "markdown file: the rubric and reply format (none = the bundled judge_rubric.md)")
    batch_size: int = setting(8, "answers judged at once, one request each, sent in parallel", min=1, max=64)
    timeout_s: float = setting(120.0, "seconds to wait for one reply", min=0.01, max=3600.0)
    retries: int = setting(2, "new tries of a request that failed or whose reply could not be read", min=0, max=10)
    max_tokens: int = setting(400, "longest reply in tokens (the rubric asks for one short JSON object)", min=16)
    cache: str | None = setting(None, "SQLite file of judgements (none = studies/judge-cache.db under the working directory)")
    api_key_env: str | None = setting(None, "environment variable holding the server's API key (the key is never stored)")


@dataclass(frozen=True)
class EvalConfig:
    """Extra scoring beyond the validation answers."""

    general_questions: int = setting(
        0, "general-medicine quiz questions scored before and after tuning (forgetting); 0 = off", min=0
    )
    judge: JudgeConfig = section(
        JudgeConfig, "a judge endpoint rates every answer: judge_correct, judge_harmful, judge_length (off: no endpoint)")
    judge_heuristic: bool = setting(
        False, "rate agreement with the reference by asking the base model (judge_score; a heuristic, weak)")
    probes: bool = setting(
        False, "score knowledge probes: the facts of training pairs (probe_seen_*) and of validation pairs "
               "(probe_unseen_*) asked in other words; on whenever a knowledge metric is an objective",
    )
    probe_questions: int | None = setting(None, "score at most this many probes of each kind (none = all)", min=1)
    bertscore_model: str | None = setting(
        None, "local encoder directory for BERTScore, e.g. a multilingual one (none = the bundled English-only "
              "all-MiniLM-L6-v2); its last layer is compared",
    )

    @staticmethod
    def read_stored(values: dict[str, Any]) -> dict[str, Any]:
        """``judge: true`` is how configs stored before the endpoint judge asked for the base-model heuristic."""
        if isinstance(values.get("judge"), bool):
            values = dict(values)
            values.setdefault("judge_heuristic", values.pop("judge"))
        return values


@dataclass(frozen=True)
class RetrievalConfig:
    """Passages from a corpus put into the prompt, found by BM25 over the question (a searched alternative)."""

    top_k: int = setting(0, "passages put before each question (0 = no retrieval)", min=0, max=10)
    corpus: str | None = setting(None, "directory of .txt/.md files (none = the bundled heart-transplant corpus)")
    passage_words: int = setting(60, "the corpus is cut into passages of about this many words", min=10, max=1000)
    train: bool = setting(False, "put the passages into the training prompts too (otherwise only when answering)")


@dataclass(frozen=True)
class LoraConfig:
    """The LoRA adapter: W + (alpha / rank) * B A on the chosen modules."""

    rank: int = setting(16, "rank r of the update B A", min=1, max=1024)
    alpha: float = setting(32.0, "scaling numerator; usually 1-2 x rank", min=0.0)
    dropout: float = setting(0.05, "dropout on the LoRA input", min=0.0, max=0.9)
    target_modules: str = setting("all_linear", "'attention' (q,k,v,o) or 'all_linear' (attention + MLP)", choices=TARGET_MODULES)
    use_rslora: bool = setting(False, "rank-stabilised LoRA (PEFT use_rslora): scale by alpha / sqrt(rank), not alpha / rank")


@dataclass(frozen=True)
class TrainingConfig:
    """Supervised fine-tuning with TRL's SFT trainer."""

    epochs: int = setting(2, "passes over the training pairs (0 = no QA tuning: retrieval or pre-training alone)",
                     min=0, max=100)
    learning_rate: float = setting(2e-4, "peak learning rate of AdamW", min=1e-8, max=1.0)
    batch_size: int = setting(8, "pairs per device step", min=1)
    gradient_accumulation_steps: int = setting(1, "steps summed before each optimiser step", min=1)
    warmup_ratio: float = setting(0.0, "share of optimiser steps spent warming up", min=0.0, max=0.5)
    scheduler: str = setting("linear", "learning-rate schedule", choices=SCHEDULERS)
    weight_decay: float = setting(0.0, "AdamW weight decay", min=0.0, max=1.0)
    max_grad_norm: float = setting(1.0, "gradient clipping norm", min=0.0)
    gradient_checkpointing: bool = setting(False, "recompute activations in the backward pass (saves memory, costs time)")
    seed: int = setting(0, "seed of adapter initialisation, data order and sampling", min=0)


@dataclass(frozen=True)
class DecodingConfig:
    """How answers are generated for scoring."""

    do_sample: bool = setting(False, "sample (true) or greedy/beam search (false)")
    temperature: float = setting(1.0, "sampling temperature (only with do_sample)", min=0.01, max=5.0)
    top_p: float = setting(1.0, "nucleus sampling mass (only with do_sample)", min=0.01, max=1.0)
    max_new_tokens: int = setting(64, "longest answer in tokens", min=1, max=4096)
    repetition_penalty: float = setting(1.0, "penalty > 1 discourages repeated tokens", min=0.5, max=3.0)
    num_beams: int = setting(1, "beam width (1 = no beam search)", min=1, max=16)
    batch_size: int = setting(16, "questions generated together (left padding)", min=1)


@dataclass(frozen=True)
class PrivacyConfig:
    """The personal-data check of the data a command reads, and memorisation measured in each trial."""

    patterns: tuple[str, ...] | None = setting(
        None, "the team's own identifiers for the personal-data check: NAME=REGEX entries, or YAML files of name: regex")
    names: str | None = setting(None, "a file of people's names, one a line: names are not detected without one")
    membership_pairs: int | None = setting(
        None, "training pairs, against as many validation pairs, whose answer loss gives membership_auc "
              "(none = as many as both splits hold; 0 = off)", min=0)
    canaries: int = setting(
        0, "made-up patient records with an identity number put into the training pairs; exposure says how far "
           "each is memorised (a configuration with canaries is never exported or merged)", min=0, max=100)
    canary_candidates: int = setting(60, "random identity numbers each canary's own is ranked among (exposure)",
                                min=10, max=10000)


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "data": DataConfig,
    "lora": LoraConfig,
    "training": TrainingConfig,
    "decoding": DecodingConfig,
    "pretraining": PretrainConfig,
    "evaluation": EvalConfig,
    "retrieval": RetrievalConfig,
    "privacy": PrivacyConfig,
}


@dataclass(frozen=True)
class TrialConfig:
    """Everything one fine-tune needs; what ``study.export`` writes and ``study.train`` reads."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    pretraining: PretrainConfig = field(default_factory=PretrainConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def inference_key(self) -> str:
        """What decides the untuned base model's answers: decoding, prompt, retrieval, seed and questions.

        Two configurations with the same key get the same answers from the base model; a fair
        comparison of a configuration with the base uses the base answering under its key.
        """
        import json

        return json.dumps({"decoding": dataclasses.asdict(self.decoding), "instructions": self.data.instructions,
                           "retrieval": dataclasses.asdict(self.retrieval), "seed": self.training.seed,
                           "max_val_examples": self.data.max_val_examples}, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str) -> "TrialConfig":
        """Build from a mapping of sections; every problem is reported together."""
        problems: list[str] = []
        if not isinstance(raw, Mapping):
            raise StudyError(f"{where}: expected a mapping of sections {sorted(SECTIONS)}, got {type(raw).__name__}")
        for key in raw:
            if key not in SECTIONS:
                problems.append(f"unknown section '{key}' (valid: {', '.join(SECTIONS)})")
        sections: dict[str, Any] = {}
        for name, section_cls in SECTIONS.items():
            values = raw.get(name) or {}
            if not isinstance(values, Mapping):
                problems.append(f"'{name}' must be a mapping, got {values!r}")
                continue
            problems += check_section(section_cls, name, values)
            sections[name] = values
        if problems:
            raise StudyError.collect(problems, where)
        return cls(**{name: build_section(SECTIONS[name], values) for name, values in sections.items()})


def explain(section: str) -> str:
    """Every key of a config section (or ``study``) with its type, default, range and help."""
    sections = {"study": StudySettings, "study.stop": StopSettings, **SECTIONS}
    if section not in sections:
        raise StudyError(f"--explain {section}: no such section (valid: {', '.join(sections)})")
    return describe_section(section, sections[section])


def load_trial_config(path: str) -> TrialConfig:
    """Read a config YAML (as written by ``study.export``); extra top-level keys such as metrics are ignored."""
    from study.core.yamlio import read_yaml

    raw = read_yaml(path)
    if not isinstance(raw, Mapping):
        raise StudyError(f"{path}: expected a mapping with a 'config' section")
    body = raw.get("config", raw)
    return TrialConfig.from_dict(body, where=path)
