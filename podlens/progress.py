"""How a long job (ingest, paper fetching, indexing) says how far it has got.

A job takes ``progress(stage, fraction)``: ``stage`` names the step (``"feed"``, ``"align"``,
``"papers"``, ``"embed"``, ...), ``fraction`` runs from 0 to 1 within it. The CLI prints it, the
app draws a progress bar, tests record it; a caller that passes nothing gets :func:`no_progress`.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]


def no_progress(stage: str, fraction: float) -> None:
    """The reporter for callers that want none."""
