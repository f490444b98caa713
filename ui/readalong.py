"""Read-along: the transcript follows the audio in the browser, with no page rerun.

``st.audio`` tells Python nothing while it plays, and rerunning the page to move a highlight
would redraw everything four times a second. So the browser does it: :func:`transcript` mounts a
``st.components.v2`` component (trusted code of ours) that owns the transcript box and talks to
the page's ``<audio>`` (the player bar's, ``.st-key-pl_player audio``):

- while it plays, the turn being heard carries ``aria-current="true"`` (and ``id="pl-now"``,
  class ``pl-now``; no other turn does) and is kept in view inside the transcript box;
- scrolling the box by hand (wheel, touch, keys, the scrollbar) pauses the follow until the
  listener taps **Back to now**;
- tapping a turn seeks the audio to its start and keeps playing (links in the text stay links).

Contract for tests and tools: every turn element carries ``data-start="<seconds>"``.

:func:`now_label` is the player bar's "where am I" line (time · chapter · speaker) and
:func:`live_link` the share link, both following the live position the same way.

The transcript's HTML is built by :func:`ui.moments.transcript_html`, which escapes every piece
of feed text (feeds are hostile input); the component only inserts that string and reads and
writes attributes. The labels' text is set with ``textContent``.
"""

from __future__ import annotations

import streamlit as st

from podlens.errors import PodlensError
from podlens.markup import safe_url
from podlens.models import Episode
from podlens.timecode import fmt_time
from ui.moments import transcript_html, turn_index_at, turns_around
from ui.render import md_text
from ui.state import share_link

EPISODE_PAGE = "app_pages/episode.py"

AUDIO_SELECTOR = ".st-key-pl_player audio"

_CSS = """
.pl-ra { position: relative; }
.pl-ra-bar { position: sticky; top: 0; height: 0; z-index: 5; text-align: right;
  overflow: visible; }
.pl-ra-back { font: inherit; font-size: 0.85rem; margin: 0.25rem 0.25rem 0 0;
  padding: 0.25rem 0.7rem; border-radius: 1rem; cursor: pointer;
  border: 1px solid var(--st-primary-color, #ff4b4b); color: #fff;
  background: var(--st-primary-color, #ff4b4b); box-shadow: 0 2px 6px rgba(0, 0, 0, 0.25); }
.pl-ra-back[hidden] { display: none; }
.pl-ra .pl-turn[data-start] { cursor: pointer; }
.pl-ra .pl-turn[data-start]:hover { background: rgba(128, 128, 128, 0.08); }
.pl-ra .pl-turn.pl-now:hover { background: rgba(255, 165, 0, 0.18); }
.pl-ra .pl-turn:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); }
"""

# One module serves the three mounts (``data.mode``): "transcript", "label", "link".
_JS = """
const AUDIO = ".st-key-pl_player audio";
const audio = () => document.querySelector(AUDIO);
const live = () => { const a = audio();
  return a && a.readyState >= 1 && isFinite(a.currentTime) ? a.currentTime : null; };

function fmt(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
  const p = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${p(m)}:${p(x)}` : `${m}:${p(x)}`;
}

// Index of the last start <= t (-1 if none).
function at(starts, t) {
  let lo = 0, hi = starts.length - 1, best = -1;
  while (lo <= hi) { const mid = (lo + hi) >> 1;
    if (starts[mid] <= t) { best = mid; lo = mid + 1; } else hi = mid - 1; }
  return best;
}

function every(ms, fn) { fn(); const id = setInterval(fn, ms); return () => clearInterval(id); }

function transcript(component) {
  const { data, parentElement } = component;
  const d = data || {};
  let root = parentElement.querySelector(":scope > .pl-ra");
  if (!root) {
    root = document.createElement("div");
    root.className = "pl-ra";
    root.innerHTML = '<div class="pl-ra-bar"><button type="button" class="pl-ra-back" hidden ' +
      'title="Follow the audio again">Back to now</button></div><div class="pl-ra-body"></div>';
    parentElement.appendChild(root);
  }
  const body = root.querySelector(".pl-ra-body");
  const back = root.querySelector(".pl-ra-back");
  const s = root.__pl || (root.__pl = { follow: true, cur: null, t0: null });
  if (root.__html !== d.html) {  // escaped by the server (ui.moments.transcript_html)
    body.innerHTML = d.html || "";
    root.__html = d.html;
    s.cur = null;
  }
  const els = [...body.querySelectorAll(".pl-turn[data-start]")];
  const starts = els.map((el) => parseFloat(el.dataset.start) || 0);
  const ends = els.map((el) => parseFloat(el.dataset.end));
  els.forEach((el) => { el.tabIndex = 0; });
  const box = () => root.closest('[class*="st-key-pl_transcript_"]') || root.parentElement;

  function mark(i) {
    if (i === s.cur) return;
    body.querySelectorAll('[aria-current="true"], #pl-now, .pl-now').forEach((el) => {
      el.removeAttribute("aria-current"); el.classList.remove("pl-now");
      if (el.id === "pl-now") el.removeAttribute("id");
    });
    s.cur = i;
    if (i === null || i < 0) return;
    els[i].setAttribute("aria-current", "true");
    els[i].classList.add("pl-now");
    els[i].id = "pl-now";
  }
  function inView(force) {
    if (s.cur === null || s.cur < 0) return;
    const b = box(), el = els[s.cur];
    if (!b || b.scrollHeight <= b.clientHeight + 4) return;
    const off = el.getBoundingClientRect().top - b.getBoundingClientRect().top;
    if (force || off < 0 || off > b.clientHeight * 0.6) {
      s.auto = Date.now();
      b.scrollTop = Math.max(0, b.scrollTop + off - b.clientHeight / 4);
    }
  }
  function tick() {
    let t = live();
    if (t === null) t = d.t;  // no audio yet: the moment the page was opened at
    if (t === null || t === undefined) return;
    let i = at(starts, t);
    if (i >= 0 && d.around && isFinite(ends[i]) && t > ends[i] + 1) i = -1;  // past the excerpt
    mark(i < 0 ? null : i);
    if (s.follow) inView(false);
  }
  function pause() { if (!s.follow) return; s.follow = false; back.hidden = false; }
  function resume() { s.follow = true; back.hidden = true; tick(); inView(true); }
  function seek(el) {
    const a = audio();
    if (!a) return;
    a.currentTime = parseFloat(el.dataset.start) || 0;
    const p = a.play(); if (p && p.catch) p.catch(() => {});
    s.follow = true; back.hidden = true; tick();
  }

  back.onclick = resume;
  body.onclick = (e) => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;  // new tab etc.
    const link = e.target.closest("a");
    if (link && !link.classList.contains("pl-time")) return;  // a link in the text: follow it
    const el = e.target.closest(".pl-turn[data-start]");
    if (!el || (!link && String(window.getSelection() || ""))) return;  // selecting text
    e.preventDefault();
    seek(el);
  };
  body.onkeydown = (e) => {
    const el = e.target.closest && e.target.closest(".pl-turn[data-start]");
    if (el && e.target === el && (e.key === "Enter")) { e.preventDefault(); seek(el); }
  };
  const b = box();
  const manual = (e) => {
    if (e.type === "pointerdown" && e.target !== b) return;  // only the scrollbar itself
    if (e.type === "keydown" && !["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]
      .includes(e.key)) return;
    pause();
  };
  const evs = ["wheel", "touchmove", "keydown", "pointerdown"];
  if (b) evs.forEach((ev) => b.addEventListener(ev, manual, { passive: true }));
  const stop = every(250, tick);
  if (s.follow) inView(true);
  return () => {
    stop();
    if (b) evs.forEach((ev) => b.removeEventListener(ev, manual));
  };
}

function label(component) {
  const { data, parentElement } = component;
  const d = data || {};
  let el = parentElement.querySelector(":scope > .pl-now-label");
  if (!el) {
    el = document.createElement("span");
    el.className = "pl-now-label";
    el.setAttribute("aria-live", "off");
    parentElement.appendChild(el);
  }
  const cs = (d.chapters || []).map((c) => c[0]), ss = (d.speakers || []).map((c) => c[0]);
  let last = "";
  return every(500, () => {
    let t = live();
    if (t === null) t = d.t || 0;
    const ci = at(cs, t), si = at(ss, t);
    const bits = [fmt(t)];
    if (ci >= 0) bits.push(d.chapters[ci][1]);
    if (si >= 0) bits.push(d.speakers[si][1]);
    const text = bits.join(" · ");
    if (text !== last) { el.textContent = text; el.dataset.t = String(Math.floor(t)); last = text; }
  });
}

function link(component) {
  const { data, parentElement } = component;
  const d = data || {};
  let wrap = parentElement.querySelector(":scope > .pl-live-link");
  if (!wrap) {
    wrap = document.createElement("div");
    wrap.className = "pl-live-link";
    wrap.innerHTML = '<input type="text" readonly aria-label="Link to this moment">' +
      '<button type="button">Copy</button>';
    parentElement.appendChild(wrap);
  }
  const input = wrap.querySelector("input"), btn = wrap.querySelector("button");
  const url = () => {
    const u = new URL(d.link || "/", window.location.href);
    const t = live();
    if (t !== null) u.searchParams.set("t", String(Math.floor(t)));
    return u.toString();
  };
  btn.onclick = () => {
    input.value = url();
    input.select();
    const done = () => { btn.textContent = "Copied"; setTimeout(() => btn.textContent = "Copy",
      1500); };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, done);
    else { document.execCommand("copy"); done(); }
  };
  return every(1000, () => { if (document.activeElement !== input) input.value = url(); });
}

// -- the player's controls: speed, keyboard, resume reports, Media Session ---------------------
const SPEED_KEY = "podlens.playbackRate";
const SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
const TYPING = "input, textarea, select, button, a, audio, [contenteditable=''], " +
  "[contenteditable='true'], [role='textbox'], [role='combobox'], [role='button'], " +
  "[role='slider'], [role='spinbutton']";

function speed() {
  const r = parseFloat(localStorage.getItem(SPEED_KEY));
  return SPEEDS.includes(r) ? r : 1;
}
function snipNow() {  // the player bar's Snip button (ui.player_time), as if tapped
  const e = (window.__plShortcuts || {})["s"];
  if (e && e.btn.isConnected) { e.fire(); return true; }
  return false;
}
function skip(dt) {
  const a = audio(); if (!a) return;
  const end = isFinite(a.duration) ? a.duration : Infinity;
  a.currentTime = Math.min(end, Math.max(0, a.currentTime + dt));
}
function toggle() { const a = audio(); if (!a) return;
  if (a.paused) { const p = a.play(); if (p && p.catch) p.catch(() => {}); } else a.pause(); }

function onPlayerKey(e) {
  if (!window.__plPlayerOn || e.defaultPrevented || e.repeat || e.ctrlKey || e.metaKey ||
      e.altKey) return;
  const el = (e.composedPath ? e.composedPath() : [e.target])[0];
  if (el && el.nodeType === 1 && (el.isContentEditable || (el.closest && el.closest(TYPING))))
    return;
  if (e.key === " " || e.code === "Space") { e.preventDefault(); toggle(); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); skip(-15); }
  else if (e.key === "ArrowRight") { e.preventDefault(); skip(30); }
}

function player(component) {
  const { data, parentElement, setStateValue } = component;
  const d = data || {};
  let root = parentElement.querySelector(":scope > .pl-ctl");
  if (!root) {
    root = document.createElement("div");
    root.className = "pl-ctl";
    root.innerHTML = '<select class="pl-speed" aria-label="Playback speed" ' +
      'title="Playback speed (remembered in this browser)">' +
      SPEEDS.map((r) => `<option value="${r}">${r}×</option>`).join("") + "</select>" +
      '<button type="button" class="pl-keys-btn" aria-expanded="false" ' +
      'aria-label="Keyboard shortcuts" aria-controls="pl-keys" title="Keyboard shortcuts">' +
      '⌨<span>Keys</span></button>' +
      '<div class="pl-keys" id="pl-keys" role="note" hidden><b>Keyboard</b><dl>' +
      "<dt><kbd>Space</kbd></dt><dd>Play / pause</dd>" +
      "<dt><kbd>←</kbd></dt><dd>Back 15 s</dd><dt><kbd>→</kbd></dt><dd>Forward 30 s</dd>" +
      "<dt><kbd>S</kbd></dt><dd>Snip the last minute</dd></dl>" +
      "<small>Headphones: next track snips too.</small></div>";
    parentElement.appendChild(root);
  }
  const sel = root.querySelector(".pl-speed");
  const keysBtn = root.querySelector(".pl-keys-btn"), keys = root.querySelector(".pl-keys");
  sel.value = String(speed());
  sel.onchange = () => { localStorage.setItem(SPEED_KEY, sel.value); apply(); };
  keysBtn.onclick = () => { keys.hidden = !keys.hidden;
    keysBtn.setAttribute("aria-expanded", String(!keys.hidden)); };

  window.__plPlayerOn = true;
  if (!window.__plPlayerKeys) {
    window.__plPlayerKeys = onPlayerKey;
    document.addEventListener("keydown", onPlayerKey);
  }

  const cs = (d.chapters || []).map((c) => c[0]);
  const ms = navigator.mediaSession;
  let chapter = null;
  function metadata(t) {
    if (!ms || typeof MediaMetadata === "undefined") return;
    const ci = at(cs, t), name = ci >= 0 ? d.chapters[ci][1] : (d.show || "");
    if (name === chapter && ms.metadata) return;
    chapter = name;
    ms.metadata = new MediaMetadata({ title: d.title || "", artist: name, album: d.show || "",
      artwork: d.artwork ? [{ src: d.artwork }] : [] });
  }
  if (ms) {
    const h = {
      play: () => { const a = audio(); if (a) a.play().catch(() => {}); },
      pause: () => { const a = audio(); if (a) a.pause(); },
      seekbackward: (e) => skip(-((e && e.seekOffset) || 15)),
      seekforward: (e) => skip((e && e.seekOffset) || 30),
      seekto: (e) => { const a = audio(); if (a && e && isFinite(e.seekTime)) a.currentTime =
        e.seekTime; },
      nexttrack: () => snipNow(),  // "tap your headphones to save it"
    };
    for (const [k, fn] of Object.entries(h)) { try { ms.setActionHandler(k, fn); } catch (_) {} }
  }

  let sent = d.reported ?? null, sentAt = Date.now();
  if (sent !== null) root.dataset.reported = String(sent);
  function apply() {
    const a = audio(); if (!a) return;
    const r = speed();
    if (a.playbackRate !== r) a.playbackRate = r;
    a.defaultPlaybackRate = r;
  }
  function report(a) {
    const t = Math.floor(a.currentTime);
    if (sent !== null && Math.abs(t - sent) < 2) return;
    sent = t; sentAt = Date.now();
    setStateValue("position", { t, duration: isFinite(a.duration) ? a.duration : null });
    root.dataset.reported = String(t);  // for tools and tests: what was last sent
  }
  // The player bar's <audio> is listened to from the document (media events don't bubble, but
  // they do pass the capture phase): no binding step, so a pause or play in the first second,
  // or on an <audio> Streamlit has just replaced, is never missed.
  const mine = (e) => e.target === audio();
  const ready = (e) => { if (mine(e)) { apply(); metadata(e.target.currentTime); } };
  const on = {
    loadedmetadata: ready,
    play: ready,
    seeked: ready,
    pause: (e) => { if (mine(e)) report(e.target); },
    ratechange: (e) => {  // e.g. the browser's own speed menu
      const r = mine(e) && e.target.playbackRate;
      if (SPEEDS.includes(r) && r !== speed()) {
        localStorage.setItem(SPEED_KEY, String(r));
        sel.value = String(r);
      }
    },
  };
  for (const [k, fn] of Object.entries(on)) document.addEventListener(k, fn, true);
  const stop = every(1000, () => {
    const a = audio();
    if (!a) return;
    metadata(a.currentTime);  // the chapter follows the position
    if (a.readyState < 1) return;
    if (a.playbackRate !== speed()) apply();
    if (ms) { try { ms.playbackState = a.paused ? "paused" : "playing"; } catch (_) {} }
    // Where the listener is, for "Continue listening": every 15 s of play (and on pause).
    if (!a.paused && Date.now() - sentAt > 15000) report(a);
  });
  return () => {
    stop();
    for (const [k, fn] of Object.entries(on)) document.removeEventListener(k, fn, true);
    window.__plPlayerOn = false;
  };
}

const MODES = { player, label, link, transcript };

export default function (component) {
  // Called again on every rerun with new data: stop the previous timers and listeners first.
  const el = component.parentElement;
  if (el.__plStop) { try { el.__plStop(); } catch (_) {} }
  const stop = (MODES[(component.data || {}).mode] || transcript)(component);
  el.__plStop = stop;
  return () => { if (el.__plStop === stop) el.__plStop = null; if (stop) stop(); };
}
"""

_LINK_CSS = """
.pl-live-link { display: flex; gap: 0.4rem; min-width: 18rem; }
.pl-live-link input { flex: 1; font: inherit; font-size: 0.85rem; padding: 0.3rem 0.45rem;
  border-radius: 0.4rem; border: 1px solid rgba(128, 128, 128, 0.45); background: transparent;
  color: inherit; }
.pl-live-link button { font: inherit; font-size: 0.85rem; padding: 0.3rem 0.7rem;
  border-radius: 0.4rem; border: 1px solid rgba(128, 128, 128, 0.45); background: transparent;
  color: inherit; cursor: pointer; }
.pl-now-label { font-weight: 600; font-variant-numeric: tabular-nums; }
.pl-ctl { position: relative; display: inline-flex; gap: 0.35rem; align-items: center; }
.pl-ctl select, .pl-keys-btn { font: inherit; font-size: 0.9rem; padding: 0.25rem 0.45rem;
  border-radius: 0.5rem; border: 1px solid rgba(128, 128, 128, 0.45); background: transparent;
  color: inherit; cursor: pointer; }
.pl-ctl select option { color: initial; }
.pl-keys-btn span { margin-left: 0.3rem; }
.pl-keys { position: absolute; top: 2.3rem; left: 0; z-index: 100; min-width: 14rem;
  padding: 0.6rem 0.8rem; border-radius: 0.5rem; background: var(--pl-bg, #fff);
  border: 1px solid rgba(128, 128, 128, 0.45); box-shadow: 0 4px 14px rgba(0, 0, 0, 0.2);
  font-size: 0.88rem; }
.pl-keys[hidden] { display: none; }
.pl-keys dl { display: grid; grid-template-columns: auto 1fr; gap: 0.2rem 0.6rem;
  margin: 0.4rem 0; }
.pl-keys dd { margin: 0; }
.pl-keys kbd { font: inherit; font-size: 0.8rem; padding: 0 0.3rem; border-radius: 0.25rem;
  border: 1px solid currentColor; }
@media (pointer: coarse) { .pl-keys-btn { display: none; } }
@media (max-width: 640px) { .pl-keys-btn span { display: none; } }  /* the ⌨ alone */
"""

_component = st.components.v2.component(
    "podlens_readalong", css=_CSS + _LINK_CSS, js=_JS, isolate_styles=False
)


def transcript(
    ep: Episode,
    t: float | None,
    terms: list[str] | tuple[str, ...] = (),
    *,
    height: int = 560,
    around: bool = False,
) -> None:
    """The transcript (whole, or ``around`` ``t``) in a box of ``height`` px that follows the
    audio; ``t`` (the moment the page opened at) is marked until the audio reports its own."""
    cur = turn_index_at(ep.turns, t) if t is not None else None
    only = turns_around(ep.turns, t) if (around and t is not None) else None
    body = transcript_html(ep, cur, terms, lambda s: share_link(ep.id, s), only=only)
    which = "ctx" if around else "full"
    with st.container(height=height, key=f"pl_transcript_{which}"):
        _component(
            data={"mode": "transcript", "html": body, "t": t, "around": around},
            key=f"pl_readalong_{which}",
            width="stretch",
        )


def now_label(ep: Episode, t: float) -> None:
    """``1:59:42 · Induction heads · Daniel Filan``: the live position, chapter and speaker."""
    _component(
        data={
            "mode": "label",
            "t": t,
            "chapters": [[c.start, c.title] for c in ep.chapters],
            "speakers": [[tu.start or 0.0, tu.speaker] for tu in ep.turns],
        },
        key="pl_now_label",
        width="content",
    )


def live_link(ep: Episode, t: float) -> None:
    """The share link to where the listener is now (updated as it plays), with Copy."""
    _component(data={"mode": "link", "link": share_link(ep.id, t)}, key="pl_live_link")


def _positions():  # -> library.positions.PositionStore
    from library.positions import PositionStore
    from ui import resources

    return PositionStore(resources.current_data_dir())


def saved_position(episode_id: str) -> float | None:
    """Where this listener left ``episode_id`` (seconds), if they started and didn't finish."""
    pos = _positions().get(episode_id)
    return pos.t if pos is not None and pos.in_progress else None


@st.fragment
def player_controls(ep: Episode, t: float) -> None:
    """Speed, keyboard help, Media Session and the resume report, in the player bar.

    A fragment: the browser's position reports (every 15 s of play and on pause) rerun only
    this, never the page. Speed is remembered per listener in the browser (``localStorage``);
    the position per episode in the data dir (:mod:`library.positions`)."""
    mark = f"pl_reported_{ep.id}"
    res = _component(
        data={
            "mode": "player",
            "title": ep.title,
            "show": ep.podcast or "",
            "artwork": safe_url(ep.image),
            "chapters": [[c.start, c.title] for c in ep.chapters],
            "reported": st.session_state.get(mark),
        },
        key="pl_player_ctl",
        width="content",
        on_position_change=lambda: None,
    )
    pos = getattr(res, "position", None) if res is not None else None
    if not isinstance(pos, dict):
        return
    try:
        at = float(pos.get("t"))
    except (TypeError, ValueError):
        return
    if st.session_state.get(mark) == at:
        return
    dur = pos.get("duration")
    try:
        _positions().save(ep.id, at, float(dur) if dur else ep.duration)
    except PodlensError:
        return  # a bad report from the page: keep what is stored
    st.session_state[mark] = at


def continue_listening(limit: int = 3) -> bool:
    """ "Continue listening": the episodes this listener started and didn't finish, most
    recent first, each opening where they left off. Returns whether it drew anything."""
    from ui import resources

    shown = 0
    for pos in _positions().recent(limit * 2):
        ep = resources.episode(pos.episode)
        if ep is None:
            continue  # removed from the library since
        if not shown:
            st.markdown("#### Continue listening")
        shown += 1
        dur = pos.duration or ep.duration
        with st.container(border=True, key=f"pl_continue_{ep.id}"):
            st.page_link(
                EPISODE_PAGE,
                label=f"**{md_text(ep.title)}**",
                icon=":material/resume:",
                query_params={"episode": ep.id, "t": str(int(pos.t))},
                help=f"Resume at {fmt_time(pos.t)}",
            )
            left = f" · {fmt_time(max(0.0, dur - pos.t))} left" if dur else ""
            st.caption(f"{md_text(ep.podcast or '')} · at {fmt_time(pos.t)}{left}".lstrip(" ·"))
            if dur:
                st.progress(min(1.0, pos.t / dur))
        if shown >= limit:
            break
    return bool(shown)
