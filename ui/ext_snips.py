"""Registers the snips widgets with the app's hooks (see ``ui/hooks.py``)."""

from __future__ import annotations

from typing import Any


def register(hooks: Any) -> None:
    from ui import snips

    hooks.register("player_actions", snips.snip_button, order=10, name="snips.player")
    hooks.register("result_actions", snips.result_snip_button, order=10, name="snips.result")
    hooks.register("episode_panels", snips.best_moments_panel, order=10, name="snips.best")
