"""The player's *live* position, for actions that need "now" (Snip, "where am I").

``st.audio`` reports nothing back to Python: the app only knows the last seek (``t`` in the URL).
:func:`live_time_button` is a button (an ``st.components.v2`` component, trusted code of ours; no
user data goes into its HTML) that reads the page's player ``currentTime`` when clicked and
returns it to Python in the run the click causes (``None`` otherwise).

A button may also carry a one-key ``shortcut`` (e.g. ``"s"``): pressing it anywhere on the page,
except while typing in a text field, does what a click does. One ``keydown`` listener serves
every such button (registered once per browser tab); each mounted button puts itself in a
table the listener reads and takes itself out when it unmounts, so a key does nothing on
pages without its button.
"""

from __future__ import annotations

import streamlit as st

_HTML = (
    '<button type="button" class="pl-live"><span class="pl-ico" aria-hidden="true"></span>'
    '<span class="pl-label"></span><kbd class="pl-kbd" aria-hidden="true"></kbd></button>'
)
_CSS = """
button.pl-live { font: inherit; font-size: 0.95rem; line-height: 1.4; padding: 0.3rem 0.75rem;
  border-radius: 0.5rem; border: 1px solid rgba(128, 128, 128, 0.45); background: transparent;
  color: inherit; cursor: pointer; white-space: nowrap; display: inline-flex;
  align-items: center; gap: 0.35rem; }
button.pl-live:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
button.pl-live.pl-primary { background: var(--st-primary-color); border-color:
  var(--st-primary-color); color: #fff; }
button.pl-live.pl-primary:hover { filter: brightness(0.92); color: #fff; }
button.pl-live:focus-visible { outline: 2px solid var(--st-primary-color); outline-offset: 2px; }
button.pl-live.pl-pressed { animation: pl-press 0.5s ease-out; }
@keyframes pl-press { 0% { transform: scale(0.92); filter: brightness(0.8); }
  100% { transform: none; filter: none; } }
.pl-ico:empty, .pl-kbd:empty { display: none; }
.pl-ico svg { width: 1.05em; height: 1.05em; display: block; fill: currentColor; }
.pl-kbd { font: inherit; font-size: 0.72rem; line-height: 1; padding: 0.12rem 0.32rem;
  border-radius: 0.25rem; border: 1px solid currentColor; opacity: 0.75; }
@media (pointer: coarse) { .pl-kbd { display: none; } }  /* phones: no keyboard to hint at */
/* A phone-width window: as compact as the bar's other buttons (ui.components), no key hint. */
@media (max-width: 640px) {
  button.pl-live { font-size: 0.85rem; padding: 0.2rem 0.55rem; }
  .pl-kbd { display: none; }
}
"""
# Material "content_cut" (Apache 2.0), drawn inline: the component's shadow root has no icon font.
_JS = """
const ICONS = {
  cut: '<svg viewBox="0 0 24 24"><path d="M9.64 7.64c.23-.5.36-1.05.36-1.64 0-2.21-1.79-4-4-4S2 ' +
    '3.79 2 6s1.79 4 4 4c.59 0 1.14-.13 1.64-.36L10 12l-2.36 2.36C7.14 14.13 6.59 14 6 14c-2.21 ' +
    '0-4 1.79-4 4s1.79 4 4 4 4-1.79 4-4c0-.59-.13-1.14-.36-1.64L12 14l7 7h3v-1L9.64 7.64zM6 ' +
    '8c-1.1 0-2-.89-2-2s.9-2 2-2 2 .89 2 2-.9 2-2 2zm0 12c-1.1 0-2-.89-2-2s.9-2 2-2 2 .89 2 2-.9 ' +
    '2-2 2zm6-7.5c-.28 0-.5-.22-.5-.5s.22-.5.5-.5.5.22.5.5-.22.5-.5.5zM19 3l-6 6 2 2 7-7V3z"/>' +
    '</svg>',
};
const TYPING = "input, textarea, select, [contenteditable=''], [contenteditable='true'], " +
  "[role='textbox'], [role='combobox'], [role='searchbox'], [role='spinbutton']";

function onKey(e) {
  if (e.defaultPrevented || e.repeat || e.ctrlKey || e.metaKey || e.altKey || !e.key) return;
  const path = e.composedPath ? e.composedPath() : [e.target];
  const el = path[0];
  if (el && el.nodeType === 1 && (el.isContentEditable || (el.closest && el.closest(TYPING))))
    return;
  const entry = (window.__plShortcuts || {})[e.key.toLowerCase()];
  if (!entry || !entry.btn.isConnected) return;
  e.preventDefault();
  entry.fire();
}

export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const d = data || {};
  const btn = parentElement.querySelector("button.pl-live");
  btn.querySelector(".pl-label").textContent = d.label || "Now";
  btn.querySelector(".pl-ico").innerHTML = ICONS[d.icon] || "";
  btn.querySelector(".pl-kbd").textContent = d.shortcut ? d.shortcut.toUpperCase() : "";
  btn.title = d.help || "";
  btn.classList.toggle("pl-primary", !!d.primary);
  if (d.shortcut) btn.setAttribute("aria-keyshortcuts", d.shortcut.toUpperCase());
  const fire = () => {
    const a = document.querySelector(".st-key-pl_player audio");
    const live = a && isFinite(a.currentTime) && a.readyState >= 1 ? a.currentTime : null;
    btn.classList.remove("pl-pressed");
    void btn.offsetWidth; // restart the "pressed" animation (feedback for the key, too)
    btn.classList.add("pl-pressed");
    setTriggerValue("at", live !== null ? live : (d.fallback ?? null));
  };
  btn.onclick = fire;
  if (!d.shortcut) return;
  const key = d.shortcut.toLowerCase();
  const table = (window.__plShortcuts = window.__plShortcuts || {});
  const entry = { btn, fire };
  table[key] = entry;
  if (!window.__plShortcutListener) {
    window.__plShortcutListener = onKey;
    document.addEventListener("keydown", onKey);
  }
  return () => {
    if (table[key] === entry) delete table[key];
  };
}
"""

_button = st.components.v2.component("podlens_live_time", html=_HTML, css=_CSS, js=_JS)


def live_time_button(
    label: str,
    key: str,
    help: str = "",
    *,
    shortcut: str | None = None,
    icon: str | None = None,
    primary: bool = False,
    fallback: float | None = None,
) -> float | None:
    """Draw a button; after it is clicked, return the player's position in seconds.

    ``shortcut``: one key that clicks it (not while typing in a field); ``icon``: ``"cut"``;
    ``primary``: filled in the theme's primary colour; ``fallback``: the time to return when the
    page has no playable audio (``None``: such a click returns ``None``, like no click)."""
    if shortcut is not None and len(shortcut) != 1:
        raise ValueError(f"a shortcut is one key, not {shortcut!r}")
    data = {"label": label, "help": help}
    if shortcut:
        data["shortcut"] = shortcut
    if icon:
        data["icon"] = icon
    if primary:
        data["primary"] = True
    if fallback is not None:
        data["fallback"] = float(fallback)
    res = _button(data=data, key=key, width="content", on_at_change=lambda: None)
    value = getattr(res, "at", None) if res is not None else None
    try:
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None
