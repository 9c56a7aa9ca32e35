"""Prepare the bundled default model: convert the GGUF file once into a safetensors cache.

    python -m study.prepare_model          # prints the cache directory

Later loads of ``smollm2-135m`` read that directory in about a second.
"""

from __future__ import annotations

import sys
import time

from study.cli import entry_point, quiet_libraries


@entry_point
def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    from study.finetune.gguf import prepare_default_model

    start = time.perf_counter()
    path = prepare_default_model()
    print(f"default model ready: {path} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
