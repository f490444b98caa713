"""Input bounds with one-line PodlensError messages (a browser user can't start an hour of work).

NaN fails every comparison, so ``lo <= nan <= hi`` is false and NaN would be reported as merely
"out of range" at best; and a setting nobody range-checks (an optimiser's learning rate) would
train a model of NaNs and cache it as that configuration's result.  So finiteness is checked
first, by name, for every numeric field of a demo's config.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from podlens.errors import PodlensError

# AdamW on these small models: below 1e-5 nothing moves in the steps allowed; above 0.1 it
# diverges.  A demo with tighter limits (grokking's) checks those as well.
LEARNING_RATE = (1e-5, 1e-1)
WEIGHT_DECAY = (0.0, 10.0)


def check_finite(name: str, value: float) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise PodlensError(f"{name} must be a finite number, got {value}")


def check_range(name: str, value: float, lo: float, hi: float, hint: str = "") -> None:
    check_finite(name, value)
    if not (lo <= value <= hi):
        extra = f" ({hint})" if hint else ""
        raise PodlensError(f"{name} must be between {lo} and {hi}, got {value}{extra}")


def check_finite_fields(cfg: Any) -> None:
    """Every float field of the dataclass ``cfg`` is a finite number."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float):
            check_finite(f.name.replace("_", " "), value)


def check_optimiser(cfg: Any) -> None:
    """The learning rate and weight decay of ``cfg`` are finite and within sane bounds."""
    check_range("learning rate", cfg.lr, *LEARNING_RATE)
    check_range("weight decay", cfg.weight_decay, *WEIGHT_DECAY)


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))
