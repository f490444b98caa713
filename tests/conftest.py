"""Shared fixtures: the ../shared data beside the repo and a local HTTP server."""

from __future__ import annotations

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


@pytest.fixture
def http_server():
    with FixtureServer() as srv:
        yield srv
