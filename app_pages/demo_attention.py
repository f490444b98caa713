"""Demo: every attention head of the trained induction model — layout only (demos/attention)."""

from __future__ import annotations

import streamlit as st

from demos import attention, induction
from podlens.errors import PodlensError
from ui import demos as ud
from ui import resources
from ui.render import md_text

st.title("Attention patterns")
st.markdown(
    "Type a sequence (words are tokens; repeat some) or use a generated repeated one, and see "
    "where each head of the trained induction model looks. **What to look for:** the layer-0 "
    "previous-token head attends one token back (a stripe just below the diagonal); the "
    "layer-1 induction head, on a repeated word, attends to the word *after* its earlier "
    "occurrence (a stripe offset by the repeat length). Hover a token to see its attention."
)
with st.expander("Where this is discussed", icon=":material/headphones:"):
    ud.episode_moments("attention")

cfg = induction.PRESETS["fast"]
data_dir = resources.current_data_dir()
if induction.load_result(cfg, data_dir) is None:
    st.info("The induction model isn't trained yet: train it on the induction page first.")
    st.page_link(
        ud.DEMO_PAGES["induction"], label="Induction heads demo", icon=":material/science:"
    )
    st.stop()

mode = st.segmented_control(
    "sequence", ["generated repeat", "type my own"], default="generated repeat"
)
if mode == "type my own":
    text = st.text_input(
        "Your sequence",
        "Mr and Mrs Dursley of number four Privet Drive were proud to say that "
        "they were perfectly normal . Mr and Mrs Dursley of number four",
        max_chars=400,
        help=f"Up to {cfg.n_ctx:d} words.",
    )
    length = None
else:
    text = None
    length = st.slider("repeat length", 4, cfg.n_ctx // 2, 10)

try:
    out = attention.inspect_sequence(text, cfg, data_dir, repeat_length=length or 10)
except PodlensError as e:
    st.error(md_text(str(e)))
    st.stop()

roles = out["roles"]
prev = [f"L{a:d}H{b:d}" for (a, b), r in roles.items() if r == "previous-token"]
ind = [f"L{a:d}H{b:d}" for (a, b), r in roles.items() if r == "induction"]
st.markdown(
    f"Previous-token heads: **{', '.join(prev) or 'none'}** · "
    f"induction heads: **{', '.join(ind) or 'none'}**"
)


@st.cache_data(max_entries=32, show_spinner="Rendering the attention view…")
def view(
    labels: tuple[str, ...], names: tuple[str, ...], model: str, tokens: tuple[int, ...]
) -> str:
    return attention.attention_html(out["pattern"], list(labels), list(names), data_dir)


html = view(tuple(out["labels"]), tuple(out["names"]), out["model"], tuple(out["tokens"]))
ud.attention_view(html)
