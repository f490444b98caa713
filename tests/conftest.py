"""Shared fixtures: the ../shared data beside the repo and a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
POSTS = SHARED / "axrp" / "posts"
EP19_MD = POSTS / "2023-02-03-episode-19-mechanistic-interpretability-neel-nanda.markdown"
EP19_FEED = SHARED / "axrp" / "feed-episode-19.xml"
AXRP_FEED = SHARED / "axrp" / "feed.xml"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not SHARED.is_dir():
        raise pytest.UsageError(f"tests need ../shared beside the repo (looked in {SHARED})")


# Tests serve feeds, transcripts and papers from 127.0.0.1, which a feed may not link unless the
# listener allows it: the suite allows it explicitly, for the whole session (so module- and
# session-scoped fixtures see it too) and in os.environ (so `streamlit run` subprocesses inherit
# it).  tests/test_hostile_input.py removes it to prove such links are refused by default.
LOCAL_HOSTS = "127.0.0.1 localhost"


@pytest.fixture(scope="session", autouse=True)
def allow_local_hosts():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PODLENS_ALLOW_HOSTS", LOCAL_HOSTS)
        yield


@pytest.fixture
def http_server():
    with FixtureServer() as srv:
        yield srv


# -- the app's fixtures (owner: app) ------------------------------------------------------------


@pytest.fixture(scope="session")
def app_data_dir(ep19_data_dir: Path) -> Path:
    """The app's episode-19 data dir: :func:`ep19_data_dir` (read-only for tests)."""
    return ep19_data_dir


# Long enough for the episode's ~3 h 53 min.
BROWSER_AUDIO_SECONDS = 4 * 3600 + 15 * 60


@pytest.fixture(scope="session")
def browser_data_dir(ep19_data_dir: Path) -> Path:
    """Episode 19 for the browser tests: :func:`ep19_data_dir`, whose enclosure is a silent WAV
    served on 127.0.0.1 for the whole session.  Each browser module runs its app on its own copy
    (snips and positions are written there)."""
    return ep19_data_dir


# -- the index's fixtures (owner: index) --------------------------------------------------------


@pytest.fixture(scope="session")
def ep19_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with episode 19 ingested (the shared feed and markdown, no paper fetching) and
    indexed, built once per session; its enclosure is a silent WAV served on 127.0.0.1 with HTTP
    Range for the whole session (without Range, Chromium cannot seek).  Treat it as read-only:
    tests that write copy it."""
    from tests.support.app_data import feed_with_enclosure, ingest_ep19, write_silence_wav
    from tests.support.httpserver import Route

    tmp = tmp_path_factory.mktemp("ep19-data")
    wav = write_silence_wav(tmp / "ep19.wav", BROWSER_AUDIO_SECONDS)
    with FixtureServer() as srv:
        audio_url = srv.add("/audio/ep19.wav", Route(file=wav, content_type="audio/wav"))
        feed = feed_with_enclosure(EP19_FEED, audio_url, tmp / "feed-19.xml")
        ingest_ep19(tmp / "data", feed, EP19_MD)
        yield tmp / "data"


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory):
    """``(folder, speech, first sentence of each turn)``: a stretch of episode 19 as a markdown
    transcript (``folder/t.md``) and as speech whose true sentence starts are known
    (:func:`tests.support.speech.spoken_episode`); skipped without espeak-ng."""
    from tests.support.speech import ESPEAK, spoken_episode

    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (make test-deps)")
    d = tmp_path_factory.mktemp("spoken")
    speech, first_of_turn = spoken_episode(EP19_MD, d)
    return d, speech, first_of_turn


@pytest.fixture(scope="session")
def heard(spoken, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What Whisper hears in the spoken audio, as the resumable cache ``ingest`` keeps under
    ``data_dir/asr``: a test that copies it into its data dir hears nothing again."""
    from ingest import asr

    _, speech, _ = spoken
    cache = tmp_path_factory.mktemp("asr")
    asr.hear(speech.path, cache)
    return cache
