"""Extension points, so snips, papers and demos add to the pages without rewriting them.

A feature drops a module ``ui/ext_<name>.py`` that defines ``register(hooks)`` and calls
``hooks.register(slot, fn)``; the app imports every such module once per process. Slots and the
keyword arguments their functions receive:

- ``player_actions``  ``fn(episode, t)`` — drawn in the player bar (e.g. a "Snip" button that
  saves the moment at ``t``). ``t`` is the player's position as the app knows it (the last
  seek); the browser's live position is not sent back.
- ``result_actions``  ``fn(result)`` — drawn in each search result card (``SearchResult``).
- ``chapter_actions`` ``fn(episode, chapter, index)`` — drawn on each chapter row (e.g. "Run the
  demo" for a chapter that has one).
- ``episode_panels``  ``fn(episode, t)`` — drawn below the transcript, one section each
  (e.g. "Best moments", a richer "Papers" panel).
- ``library_actions`` ``fn(summary)`` — drawn on each episode card in the library.

A failing extension shows its error in place of its widget and never breaks the page.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SLOTS = (
    "player_actions",
    "result_actions",
    "chapter_actions",
    "episode_panels",
    "library_actions",
)


@dataclass(order=True)
class _Entry:
    order: int
    name: str
    fn: Callable[..., Any]


_registry: dict[str, list[_Entry]] = {s: [] for s in SLOTS}
_loaded = False
_lock = threading.Lock()


def register(slot: str, fn: Callable[..., Any], *, order: int = 100, name: str = "") -> None:
    """Add ``fn`` to ``slot`` (lower ``order`` draws first); registering a name again replaces."""
    if slot not in _registry:
        raise ValueError(f"unknown app hook slot {slot!r} (known: {', '.join(SLOTS)})")
    name = name or f"{fn.__module__}.{fn.__qualname__}"
    entries = [e for e in _registry[slot] if e.name != name]
    entries.append(_Entry(order, name, fn))
    _registry[slot] = sorted(entries, key=lambda e: (e.order, e.name))


def entries(slot: str) -> list[Callable[..., Any]]:
    load_extensions()
    return [e.fn for e in _registry.get(slot, [])]


def load_extensions() -> None:
    """Import every ``ui/ext_*.py`` once and call its ``register(hooks)``."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        import sys

        here = Path(__file__).parent
        me = sys.modules[__name__]
        for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
            if info.name.startswith("ext_"):
                mod = importlib.import_module(f"ui.{info.name}")
                reg = getattr(mod, "register", None)
                if callable(reg):
                    reg(me)
        _loaded = True


def render(slot: str, **kwargs: Any) -> int:
    """Draw every function registered for ``slot``; returns how many there were."""
    import streamlit as st

    fns = entries(slot)
    for fn in fns:
        try:
            fn(**kwargs)
        except Exception as e:  # an extension must not take the page down
            if type(e).__module__.startswith("streamlit."):
                raise  # reruns / page switches are control flow, not failures
            st.error(f"{getattr(fn, '__module__', 'extension')}: {e}")
    return len(fns)
