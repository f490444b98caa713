"""Numbers typed by people: finite, in range, or a one-line error.

``float("nan")``, ``float("inf")`` and ``float("1" * 400)`` are all valid Python floats, and every
comparison with NaN is false, so a check like ``if before < 0`` lets NaN through.  Every numeric
entry point (CLI flags, URL parameters, demo settings, the snip API) goes through these.

The ``*_arg`` factories are argparse ``type=`` functions.  They raise :class:`PodlensError`, which
argparse does not catch (it only catches ``ValueError``/``TypeError``/``ArgumentTypeError``), so
the CLI's ``cli_errors`` prints it as one line and exits 2 instead of argparse's usage block.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from podlens.errors import PodlensError


def check_finite(name: str, value: float) -> float:
    """``value`` as a float if it is a finite number; else PodlensError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise PodlensError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise PodlensError(f"{name} must be a finite number, got {value!r}")
    return v


def float_arg(
    name: str, lo: float | None = None, hi: float | None = None
) -> Callable[[str], float]:
    """argparse type: a finite float in ``[lo, hi]`` (either bound optional)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise PodlensError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(v):
            raise PodlensError(f"{name} must be a finite number, got {text!r}")
        if lo is not None and v < lo:
            raise PodlensError(f"{name} must be at least {lo:g}, got {text}")
        if hi is not None and v > hi:
            raise PodlensError(f"{name} must be at most {hi:g}, got {text}")
        return v

    parse.__name__ = "number"
    return parse


def int_arg(name: str, lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: a whole number in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            v = int(text.strip())
        except ValueError:
            raise PodlensError(f"{name} must be a whole number, got {text!r}") from None
        if not lo <= v <= hi:
            raise PodlensError(f"{name} must be between {lo} and {hi}, got {v}")
        return v

    parse.__name__ = "integer"
    return parse
