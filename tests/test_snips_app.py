"""The Snips page renders the library, filters it and edits through the store (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from snips.store import SnipStore
from tests.conftest import REPO
from tests.support.snips_data import awkward_snip


def test_snips_page_lists_filters_and_favourites(tmp_path, monkeypatch):
    monkeypatch.setenv("PODLENS_DATA_DIR", str(tmp_path))
    store = SnipStore(tmp_path)
    a = store.save(awkward_snip(start=10, title="Weird optimizers", favourite=False, tags=["opt"]))
    store.save(awkward_snip(episode="ep-2", start=20, title="Induction heads", tags=["heads"]))

    at = AppTest.from_file(str(REPO / "app_pages" / "snips.py"), default_timeout=60).run()
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert titles == ["#### Weird optimizers", "#### ★ Induction heads"]
    assert at.caption[0].value == "2 snips"

    at.text_input(key="snips_q").input("optimizers").run()
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] == [
        "#### Weird optimizers"
    ]
    fav = next(b for b in at.button if b.key == f"fav_0_{a.id}")
    fav.click().run()
    assert store.get(a.id).favourite is True
    assert not at.exception
