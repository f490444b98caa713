"""The player's *live* position, for actions that need "now" (Snip, "where am I").

``st.audio`` reports nothing back to Python: the app only knows the last seek (``t`` in the URL).
:func:`live_time_button` is a button (an ``st.components.v2`` component, trusted code of ours; no
user data goes into its HTML) that reads the page's player ``currentTime`` when clicked and
returns it to Python in the run the click causes (``None`` otherwise).
"""

from __future__ import annotations

import streamlit as st

_HTML = '<button type="button" class="pl-live"></button>'
_CSS = """
button.pl-live { font: inherit; font-size: 0.95rem; line-height: 1.4; padding: 0.3rem 0.75rem;
  border-radius: 0.5rem; border: 1px solid rgba(128, 128, 128, 0.45); background: transparent;
  color: inherit; cursor: pointer; white-space: nowrap; }
button.pl-live:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
"""
_JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const btn = parentElement.querySelector("button.pl-live");
  btn.textContent = (data && data.label) || "Now";
  btn.title = (data && data.help) || "";
  btn.onclick = () => {
    const a = document.querySelector(".st-key-pl_player audio");
    setTriggerValue("at", a && isFinite(a.currentTime) ? a.currentTime : null);
  };
}
"""

_button = st.components.v2.component("podlens_live_time", html=_HTML, css=_CSS, js=_JS)


def live_time_button(label: str, key: str, help: str = "") -> float | None:
    """Draw a button; after it is clicked, return the player's position in seconds."""
    res = _button(data={"label": label, "help": help}, key=key, on_at_change=lambda: None)
    value = getattr(res, "at", None) if res is not None else None
    try:
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None
