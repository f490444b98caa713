"""Per-configuration run folders, atomic saves and cross-process locks.

Layout: ``data_dir/demos/<demo>/<config hash>/`` holds ``config.json``, ``result.json`` (written
last, atomically: its presence means the run finished), ``state.pt`` (latest weights + optimiser
for resuming) and, for grokking, ``checkpoints/<step>.pt``. A ``.lock`` file (``filelock``, an
OS-level lock) makes sure only one process or thread trains a given configuration at a time, so
two users of the app never write into each other's folder; readers need no lock because every
file is replaced atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from podlens.atomic import atomic_write_bytes, atomic_write_json
from podlens.config import data_dir as default_data_dir
from podlens.errors import PodlensError

# Bump when a change to the training code makes old cached results stale.
CACHE_VERSION = 1


def config_hash(demo: str, cfg: Any) -> str:
    """A short stable hash of a demo's config dataclass (what the cache folder is named after)."""
    payload = {"demo": demo, "version": CACHE_VERSION, "config": dataclasses.asdict(cfg)}
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def run_dir(demo: str, cfg: Any, data_dir: str | Path | None = None) -> Path:
    """``data_dir/demos/<demo>/<hash>``; created, with ``config.json`` for humans."""
    d = default_data_dir(data_dir) / "demos" / demo / config_hash(demo, cfg)
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "config.json").exists():
        atomic_write_json(d / "config.json", {"demo": demo, **dataclasses.asdict(cfg)})
    return d


def run_lock(directory: Path, wait: float = 0.0) -> FileLock:
    """Acquire the training lock of a run folder, or raise PodlensError if someone holds it."""
    lock = FileLock(str(directory / ".lock"))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise PodlensError(
            f"this configuration is already training in another session ({directory.name}); "
            "wait for it to finish and its results will show here"
        ) from None
    return lock


def save_torch(path: Path, obj: Any) -> None:
    """``torch.save`` through an atomic write."""
    import torch  # here, not at the top: pages that only hash a config need no torch (3 s)

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_torch(path: Path) -> Any:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


def load_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
