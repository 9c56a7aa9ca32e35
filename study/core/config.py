"""Frozen configuration dataclasses and their validation.

A :class:`TrialConfig` holds everything one fine-tune needs: model, data, LoRA, training
and decoding settings. Each field carries its help text and the values it accepts in its
metadata, so that the YAML loader (here) and the search-space loader
(:mod:`search_spaces`) check values in one way and report every problem at once.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from study.core.errors import StudyError

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


def _f(default: Any, help: str, **rules: Any) -> Any:
    """A dataclass field with help text and validation rules (min, max, choices)."""
    return field(default=default, metadata={"help": help, **rules})


@dataclass(frozen=True)
class ModelConfig:
    """Which base model to fine-tune and where it runs."""

    name: str = _f(DEFAULT_MODEL, "'smollm2-135m' (bundled), a local Hugging Face model directory, or a hub id")
    device: str = _f("auto", "'auto' uses CUDA when present, else the CPU", choices=DEVICES)
    trust_remote_code: bool = _f(False, "run Python code shipped with a hub model (off: only safe loading)")
    quantization: str = _f(
        "none", "'4bit': frozen base weights in 4-bit NF4 (QLoRA; CUDA and the qlora extra)", choices=QUANTIZATIONS
    )


@dataclass(frozen=True)
class DataConfig:
    """Where the QA pairs come from and how they are split."""

    path: str | None = _f(None, "JSONL file or directory with train/val/test.jsonl; none = bundled heart-transplant set")
    split_seed: int = _f(0, "seed of the train/val/test split of a single JSONL file", min=0)
    val_fraction: float = _f(0.1, "share of questions held out for validation (objectives)", min=0.0, max=0.5)
    test_fraction: float = _f(0.1, "share held out for the final test (scored at export only)", min=0.0, max=0.5)
    max_train_examples: int | None = _f(None, "use at most this many training pairs (none = all)", min=1)
    max_val_examples: int | None = _f(None, "score at most this many validation questions (none = all)", min=1)
    system_prompt: str | None = _f(
        "You are a heart-transplant clinician. Answer in one or two sentences.",
        "system message of the chat template (none = the model's own default)",
    )
    max_seq_length: int = _f(256, "longest prompt + answer in tokens; longer pairs are truncated", min=16)
    answer_style: str | None = _f(
        None, "a named system prompt that replaces system_prompt (searchable)", choices=ANSWER_STYLES
    )
    probes: str | None = _f(
        None, "JSONL of knowledge probes {id or question, probe, variants}; none = the bundled probes (bundled data only)"
    )
    augment: int = _f(
        0, "add this many paraphrased questions per training pair (the probes file's variants; never a probe)",
        min=0, max=10,
    )

    @property
    def instructions(self) -> str | None:
        """The system prompt in force: the answer style's when one is set."""
        return STYLE_PROMPTS[self.answer_style] if self.answer_style else self.system_prompt


@dataclass(frozen=True)
class PretrainConfig:
    """Optional continued pre-training of the adapter on plain domain text, before QA tuning."""

    epochs: int = _f(0, "passes over the corpus (0 = no continued pre-training)", min=0, max=20)
    learning_rate: float = _f(1e-4, "peak learning rate of the pre-training stage", min=1e-8, max=1.0)
    corpus: str | None = _f(None, "directory of .txt/.md files (none = the bundled heart-transplant corpus)")
    block_size: int = _f(128, "tokens per training chunk of the corpus", min=16)
    max_blocks: int | None = _f(None, "use at most this many chunks (none = all)", min=1)


@dataclass(frozen=True)
class EvalConfig:
    """Extra scoring beyond the validation answers."""

    general_questions: int = _f(
        0, "general-medicine quiz questions scored before and after tuning (forgetting); 0 = off", min=0
    )
    judge: bool = _f(False, "rate agreement with the reference by asking the base model (a heuristic)")
    probes: bool = _f(
        False, "score knowledge probes: the facts of training pairs (probe_seen_*) and of validation pairs "
               "(probe_unseen_*) asked in other words; on whenever a knowledge metric is an objective",
    )
    probe_questions: int | None = _f(None, "score at most this many probes of each kind (none = all)", min=1)


@dataclass(frozen=True)
class RetrievalConfig:
    """Passages from a corpus put into the prompt, found by BM25 over the question (a searched alternative)."""

    top_k: int = _f(0, "passages put before each question (0 = no retrieval)", min=0, max=10)
    corpus: str | None = _f(None, "directory of .txt/.md files (none = the bundled heart-transplant corpus)")
    passage_words: int = _f(60, "the corpus is cut into passages of about this many words", min=10, max=1000)
    train: bool = _f(False, "put the passages into the training prompts too (otherwise only when answering)")


@dataclass(frozen=True)
class LoraConfig:
    """The LoRA adapter: W + (alpha / rank) * B A on the chosen modules."""

    rank: int = _f(16, "rank r of the update B A", min=1, max=1024)
    alpha: float = _f(32.0, "scaling numerator; usually 1-2 x rank", min=0.0)
    dropout: float = _f(0.05, "dropout on the LoRA input", min=0.0, max=0.9)
    target_modules: str = _f("all_linear", "'attention' (q,k,v,o) or 'all_linear' (attention + MLP)", choices=TARGET_MODULES)


@dataclass(frozen=True)
class TrainingConfig:
    """Supervised fine-tuning with TRL's SFT trainer."""

    epochs: int = _f(2, "passes over the training pairs (0 = no QA tuning: retrieval or pre-training alone)",
                     min=0, max=100)
    learning_rate: float = _f(2e-4, "peak learning rate of AdamW", min=1e-8, max=1.0)
    batch_size: int = _f(8, "pairs per device step", min=1)
    gradient_accumulation_steps: int = _f(1, "steps summed before each optimiser step", min=1)
    warmup_ratio: float = _f(0.0, "share of optimiser steps spent warming up", min=0.0, max=0.5)
    scheduler: str = _f("linear", "learning-rate schedule", choices=SCHEDULERS)
    weight_decay: float = _f(0.0, "AdamW weight decay", min=0.0, max=1.0)
    max_grad_norm: float = _f(1.0, "gradient clipping norm", min=0.0)
    gradient_checkpointing: bool = _f(False, "recompute activations in the backward pass (saves memory, costs time)")
    seed: int = _f(0, "seed of adapter initialisation, data order and sampling", min=0)


@dataclass(frozen=True)
class DecodingConfig:
    """How answers are generated for scoring."""

    do_sample: bool = _f(False, "sample (true) or greedy/beam search (false)")
    temperature: float = _f(1.0, "sampling temperature (only with do_sample)", min=0.01, max=5.0)
    top_p: float = _f(1.0, "nucleus sampling mass (only with do_sample)", min=0.01, max=1.0)
    max_new_tokens: int = _f(64, "longest answer in tokens", min=1, max=4096)
    repetition_penalty: float = _f(1.0, "penalty > 1 discourages repeated tokens", min=0.5, max=3.0)
    num_beams: int = _f(1, "beam width (1 = no beam search)", min=1, max=16)
    batch_size: int = _f(16, "questions generated together (left padding)", min=1)


SAMPLERS = ("tpe", "nsga2", "gp", "random", "grid")
PRUNERS = ("none", "median", "successive_halving", "hyperband", "wilcoxon")
DEFAULT_OBJECTIVES = ("rougeL:max", "bertscore_f1:max", "train_seconds:min")


@dataclass(frozen=True)
class StudySettings:
    """How the study searches: objectives, sampler, pruner. The ``study:`` section of a space; CLI flags override it."""

    objectives: tuple[str, ...] = _f(DEFAULT_OBJECTIVES, "metric:direction pairs, e.g. rougeL:max,train_seconds:min")
    sampler: str = _f("tpe", "Optuna sampler", choices=SAMPLERS)
    pruner: str = _f("median", "stop weak trials early", choices=PRUNERS)
    pruning_metric: str = _f("rougeL", "validation metric the pruner watches (its direction comes from the metric)")
    checks_per_epoch: int = _f(
        1, "times an epoch the pruner sees the pruning metric (eval_loss is cheap; other metrics generate answers)",
        min=1, max=20,
    )
    n_trials: int = _f(50, "trials this command runs (a resumed study adds this many)", min=1)
    eval_chunks: int = _f(4, "wilcoxon pruner: score the validation questions in this many chunks", min=1)
    check_questions: int = _f(
        0, "checks before the last that generate answers (a pruning metric other than eval_loss) answer only the "
           "first N validation questions; 0 = all", min=0)
    check_max_new_tokens: int = _f(
        0, "those checks' answers are at most this many tokens (0 = the decoding's max_new_tokens)", min=0)
    sample_answers: int = _f(5, "answers stored on each trial beside their references", min=0)
    confirm_top: int = _f(
        0, "after the trials, re-train this many best Pareto trials with fresh seeds (study.confirm); 0 = off", min=0
    )
    confirm_seeds: int = _f(3, "fresh training seeds per confirmed trial", min=1, max=20)


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "data": DataConfig,
    "lora": LoraConfig,
    "training": TrainingConfig,
    "decoding": DecodingConfig,
    "pretraining": PretrainConfig,
    "evaluation": EvalConfig,
    "retrieval": RetrievalConfig,
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


def fields_of(section_cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(section_cls)}


def field_types(section_cls: type) -> dict[str, tuple[type, ...]]:
    """The accepted Python types of each field; ``int | None`` gives ``(int, NoneType)``."""
    hints = typing.get_type_hints(section_cls)
    out: dict[str, tuple[type, ...]] = {}
    for name, hint in hints.items():
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            out[name] = tuple(typing.get_args(hint))
        else:
            out[name] = (hint,)
    return out


def coerce(value: Any, accepted: tuple[type, ...]) -> Any:
    """Turn YAML's spellings into the field's type: ``1e-4`` (a string to PyYAML) into a float, 3 into 3.0."""
    if float in accepted and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if float in accepted and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check_value(section_cls: type, key: str, value: Any) -> str | None:
    """Return a problem with ``value`` for ``section.key``, or None when it is valid."""
    f = fields_of(section_cls)[key]
    accepted = field_types(section_cls)[key]
    value = coerce(value, accepted)
    if accepted[0] is tuple or typing.get_origin(accepted[0]) is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
            return f"expected a non-empty list of strings, got {value!r}"
        return None
    type_ok = any(
        (value is None and t is type(None))
        or (t is int and isinstance(value, int) and not isinstance(value, bool))
        or (t is float and isinstance(value, float))
        or (t is bool and isinstance(value, bool))
        or (t is str and isinstance(value, str))
        for t in accepted
    )
    if not type_ok:
        names = " or ".join("null" if t is type(None) else t.__name__ for t in accepted)
        return f"expected {names}, got {value!r}"
    if value is None:
        return None
    rules = f.metadata
    if "choices" in rules and value not in rules["choices"]:
        return f"got {value!r}; valid: {', '.join(map(str, rules['choices']))}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if "min" in rules and value < rules["min"]:
        return f"must be >= {rules['min']}, got {value!r}"
    if "max" in rules and value > rules["max"]:
        return f"must be <= {rules['max']}, got {value!r}"
    return None


def check_section(section_cls: type, name: str, values: Mapping[str, Any]) -> list[str]:
    known = fields_of(section_cls)
    problems = []
    for key, value in values.items():
        if key not in known:
            problems.append(f"unknown key '{name}.{key}' (valid: {', '.join(known)}; "
                            f"python -m study.run --explain {name} describes them)")
            continue
        problem = check_value(section_cls, key, value)
        if problem:
            problems.append(f"'{name}.{key}' {problem} ({describe_field(section_cls, key)})")
    return problems


def describe_field(section_cls: type, key: str) -> str:
    """One key's type, default, range or choices and help, from the field's metadata.

    ``int >= 1, default 2: passes over the training pairs``: what ``--explain`` lists and
    what an error about the key appends, the way TRL's parser turns field help into ``--help``.
    """
    f = fields_of(section_cls)[key]
    rules = f.metadata
    kind = " or ".join("null" if t is type(None) else getattr(t, "__name__", str(t)) for t in field_types(section_cls)[key])
    if "choices" in rules:
        kind += f" in {{{', '.join(map(str, rules['choices']))}}}"
    if "min" in rules and "max" in rules:
        kind += f" in [{rules['min']:g}, {rules['max']:g}]"
    elif "min" in rules:
        kind += f" >= {rules['min']:g}"
    elif "max" in rules:
        kind += f" <= {rules['max']:g}"
    default = f.default if f.default is not dataclasses.MISSING else None
    if isinstance(default, tuple):
        default = ",".join(default)
    return f"{kind}, default {'null' if default is None else default}: {rules.get('help', '')}".rstrip(": ")


def explain(section: str) -> str:
    """Every key of a config section (or ``study``) with its type, default, range and help."""
    sections = {"study": StudySettings, **SECTIONS}
    if section not in sections:
        raise StudyError(f"--explain {section}: no such section (valid: {', '.join(sections)})")
    cls = sections[section]
    lines = [f"{section}: {(cls.__doc__ or '').strip().splitlines()[0]}"]
    width = max(len(k) for k in fields_of(cls))
    lines += [f"  {key:<{width}}  {describe_field(cls, key)}" for key in fields_of(cls)]
    return "\n".join(lines)


def build_section(section_cls: type, values: Mapping[str, Any]) -> Any:
    types_ = field_types(section_cls)
    out = {}
    for key, value in values.items():
        if typing.get_origin(types_[key][0]) is tuple:
            value = tuple(v.strip() for v in value.split(",")) if isinstance(value, str) else tuple(value)
        out[key] = coerce(value, types_[key])
    return section_cls(**out)


def load_trial_config(path: str) -> TrialConfig:
    """Read a config YAML (as written by ``study.export``); extra top-level keys such as metrics are ignored."""
    from study.core.yamlio import read_yaml

    raw = read_yaml(path)
    if not isinstance(raw, Mapping):
        raise StudyError(f"{path}: expected a mapping with a 'config' section")
    body = raw.get("config", raw)
    return TrialConfig.from_dict(body, where=path)
