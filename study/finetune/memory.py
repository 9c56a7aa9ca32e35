"""Giving memory back between trials (Python objects, the CUDA cache, glibc's free lists)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def release_memory() -> None:
    """Give back what a finished trial left: unreachable objects, the CUDA cache, glibc's free lists.

    Without ``malloc_trim`` glibc keeps freed blocks (a trial's activations, the weight copies
    of :func:`adapter_folded_in`) for reuse, and resident memory wanders by hundreds of MiB
    from trial to trial; with it, the process holds what it uses (benchmarks/memory).
    """
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def freeze_loaded() -> None:
    """Move every object alive now out of the garbage collector's view, for a process that runs many trials.

    The libraries' ~500,000 long-lived objects (model, tokenizer, metric libraries) would be
    rescanned by the full collection :func:`release_memory` runs after every trial. Call it once
    the shared model is loaded, from the command that owns the process (a study, a confirmation):
    it changes the whole process, which is why a library function does not do it on its own.
    """
    import gc

    gc.collect()
    gc.freeze()


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``); None elsewhere."""
    import ctypes
    import ctypes.util
    import sys

    libc = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        return ctypes.CDLL(libc).malloc_trim if libc else None
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim
        return None
