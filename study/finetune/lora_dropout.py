"""LoRA dropout that draws its random mask four elements at a time, for the CPU.

PEFT puts an ``nn.Dropout`` on the input of every LoRA layer. On the CPU drawing its mask
is a large part of a training step: torch's generator makes one draw per element, on every
adapted layer (all seven linear layers of SmolLM2-135M's 30 blocks); the measured share is
in benchmarks/RESULTS.md. Here one 64-bit draw
serves four elements, 16 bits each, which makes the mask about twice as cheap.

The drop probability is rounded to a multiple of 1/65536 (0.05 becomes 0.0500031), and the
kept elements are scaled by the inverse of the keep probability actually used, so every
element's expectation is unchanged, as with ``nn.Dropout``. The generator is torch's
default one: ``torch.manual_seed`` makes the masks reproducible. CUDA keeps ``nn.Dropout``,
whose fused kernel is already cheap.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

LEVELS = 1 << 16  # one draw of 16 bits: 65,536 equally likely values
_INT64_MIN = torch.iinfo(torch.int64).min


class MaskDropout(nn.Module):
    """Dropout with probability ``p`` (rounded to 1/65536) from 16 random bits an element."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), not {p}")
        dropped = round(p * LEVELS)
        self.p = dropped / LEVELS
        self.threshold = dropped - LEVELS // 2  # a signed 16-bit draw below this drops the element
        self.scale = LEVELS / (LEVELS - dropped)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        n = x.numel()
        words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_(_INT64_MIN, None)
        keep = words.view(torch.int16)[:n].view(x.shape) >= self.threshold
        # ``where`` keeps only the boolean mask for the backward pass, as nn.Dropout does.
        return torch.where(keep, x, 0.0).mul_(self.scale)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def use_mask_dropout(model: Any) -> int:
    """Replace every LoRA layer's ``nn.Dropout`` with :class:`MaskDropout`; returns how many were replaced."""
    replaced = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, layer in list(dropouts.items()):
            if type(layer) is nn.Dropout and layer.p > 0:
                dropouts[name] = MaskDropout(layer.p)
                replaced += 1
    return replaced
