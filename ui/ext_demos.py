"""Registers the demos' "Run the demo" chapter action with the app's hooks (``ui/hooks.py``)."""

from __future__ import annotations

from typing import Any


def register(hooks: Any) -> None:
    from ui import demos

    hooks.register("chapter_actions", demos.chapter_demo_button, order=50, name="demos.chapter")
