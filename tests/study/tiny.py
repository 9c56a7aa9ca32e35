"""A trial configuration for the tiny random Llama the tests build: seconds, not minutes.

Importable from the tests under ``tests/study`` (its conftest puts this folder on ``sys.path``).
"""

from __future__ import annotations

from study.core.config import DataConfig, DecodingConfig, LoraConfig, ModelConfig, TrainingConfig, TrialConfig


def tiny_config(model_dir, qa_file, **training) -> TrialConfig:
    return TrialConfig(
        model=ModelConfig(name=str(model_dir), device="cpu"),
        data=DataConfig(path=str(qa_file), val_fraction=0.2, test_fraction=0.2, max_seq_length=64),
        lora=LoraConfig(rank=4, alpha=8.0, dropout=0.0),
        training=TrainingConfig(**{"epochs": 2, "batch_size": 4, "learning_rate": 1e-2, **training}),
        decoding=DecodingConfig(max_new_tokens=6, batch_size=3),
    )
