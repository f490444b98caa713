"""Input bounds with one-line PodlensError messages (a browser user can't start an hour of work)."""

from __future__ import annotations

from podlens.errors import PodlensError


def check_range(name: str, value: float, lo: float, hi: float, hint: str = "") -> None:
    if not (lo <= value <= hi):
        extra = f" ({hint})" if hint else ""
        raise PodlensError(f"{name} must be between {lo} and {hi}, got {value}{extra}")


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n**0.5) + 1))
