"""Demo: induction heads form — layout only; the model and scores are in demos/induction."""

from __future__ import annotations

import math
import time

import streamlit as st

from demos import attention, induction
from podlens.errors import PodlensError
from ui import demos as ud
from ui import resources
from ui.render import md_text

st.title("Induction heads: how a transformer learns to copy")
st.markdown(
    "A two-layer, attention-only transformer reads random tokens in which a run of tokens "
    "repeats. **What to look for:** the loss sits on a plateau, then drops suddenly (the phase "
    "change) as two heads form together: a *previous-token head* in layer 0 and an *induction "
    "head* in layer 1 that attends to the token after the current token's last occurrence. On a "
    "repeated random sequence the loss on the second copy falls far below the first."
)
with st.expander("Where this is discussed", icon=":material/headphones:"):
    ud.episode_moments("induction")

presets = list(induction.PRESETS)
c1, c2 = st.columns(2)
preset = c1.segmented_control(
    "preset", presets, default="fast", help="fast: 2 heads per layer; wide: 4, slower"
)
steps = c2.number_input(
    "steps", 100, induction.UI_LIMITS.n_steps[1], induction.PRESETS[preset or "fast"].n_steps, 100
)
cfg = induction.make_config(preset or "fast", n_steps=int(steps))
try:
    induction.validate(cfg, induction.UI_LIMITS)
except PodlensError as e:
    st.error(md_text(str(e)))
    st.stop()

data_dir = resources.current_data_dir()
result = induction.load_result(cfg, data_dir)
run = ud.run_for(induction.DEMO, cfg)


def train_fn(**kw):
    return induction.train(cfg, data_dir, limits=induction.UI_LIMITS, **kw)


def scores(rec: dict) -> None:
    a, b = st.columns(2)
    with a:
        ud.heatmap(
            rec["induction"], "induction score per head", threshold=induction.INDUCTION_THRESHOLD
        )
    with b:
        ud.heatmap(
            rec["prev_token"],
            "previous-token score per head",
            threshold=induction.PREV_TOKEN_THRESHOLD,
        )


def loss_curve(records: list[dict]) -> None:
    ud.line_chart(
        records,
        {"loss": "training loss"},
        y_title="loss",
        log_x=False,
        title="Training loss: plateau, then phase change",
    )


def score_curves(records: list[dict]) -> None:
    ud.line_chart(
        induction.score_history(records),
        {
            "ind_last": f"induction, layer {cfg.n_layers - 1}",
            "ind_first": "induction, layer 0",
            "prev_first": "previous-token, layer 0",
        },
        y_title="best head score",
        log_y=False,
        log_x=False,
        y_domain=(0, 1),
        title="Head scores during training",
        rules={induction.INDUCTION_THRESHOLD: "threshold"},
    )


if result is None and (run is None or run.done):
    if run is not None and run.error is not None:
        st.error(f"The last run failed: {md_text(run.error)}")
    if st.button("Train", type="primary", icon=":material/play_arrow:"):
        ud.start_run(induction.DEMO, cfg, train_fn)
        st.rerun()
    st.stop()

if result is None:

    @st.fragment(run_every=1.0)
    def live() -> None:
        if run.done:
            st.rerun()
        with st.status("Training…", expanded=True):
            ud.run_controls(run, cfg.n_steps)
            recs = list(run.records)
            loss_curve(recs)
            evals = [r for r in recs if "induction" in r]
            if evals:
                scores(evals[-1])

    live()
    st.stop()

m1, m2, m3 = st.columns(3)
m1.metric("best induction score", f"{result['max_induction_score']:.2f}")
m2.metric(
    "induction heads", ", ".join(f"L{a:d}H{b:d}" for a, b in result["induction_heads"]) or "none"
)
m3.metric(
    "loss 1st → 2nd copy", f"{result['loss_first_half']:.2f} → {result['loss_second_half']:.2f}"
)
loss_curve(result["records"])
scores(result)
st.caption(
    f"Scores on a repeated random sequence; a head scoring ≥ {induction.INDUCTION_THRESHOLD} "
    "counts as an induction (or previous-token) head, in bold."
)
score_curves(result["records"])

st.subheader("Loss per position on a repeated random sequence")
L = cfg.eval_len
ud.position_loss_chart(result["loss_by_position"], L)
st.caption(
    f"Tokens 1–{L:d} are random: the loss stays near ln {cfg.d_vocab:d} ≈ "
    f"{math.log(cfg.d_vocab):.1f} nats. Then the same {L:d} tokens repeat: the first one can't be "
    "guessed, but from the next on the induction head finds each token's earlier occurrence "
    "and copies what followed it, and the loss collapses."
)
st.page_link(
    ud.DEMO_PAGES["attention"],
    label="Look at every head's attention pattern",
    icon=":material/visibility:",
)


@st.fragment
def poke_section() -> None:
    """Type a sequence, see the trained model's attention and its loss on each next token."""
    st.subheader("Poke the trained model")
    st.markdown(
        "Type a sequence and run this model on it. The model knows no words: each distinct word "
        f"becomes one of its {cfg.d_vocab:d} tokens (or type token ids, 0–{cfg.d_vocab - 1:d}). "
        "**What to look for:** where a token has appeared before, the induction heads attend to "
        "the token that followed it, and the loss on that next token drops."
    )
    mode = st.segmented_control("input as", ["words", "token ids"], default="words", key="pk_mode")
    as_ids = mode == "token ids"
    example = "7 3 12 40 5 21 9 7 3 12 40 5" if as_ids else "the cat sat on a mat the cat sat on"
    with st.form("poke", border=True):
        text = st.text_input(
            "Your sequence",
            example,
            max_chars=400,
            key=f"pk_text_{mode}",
            help=f"Up to {cfg.n_ctx:d} tokens, separated by spaces.",
        )
        repeat = st.checkbox("follow it with a copy of itself", key="pk_repeat")
        st.form_submit_button("Run the model", icon=":material/play_arrow:")
    try:
        out = attention.poke(text, cfg, data_dir, as_ids=as_ids, repeat=repeat)
    except PodlensError as e:
        st.error(md_text(str(e)))
        return
    seen = [x for x, p in zip(out.loss, out.predictable, strict=True) if p]
    new = [x for x, p in zip(out.loss, out.predictable, strict=True) if not p]
    k1, k2, k3 = st.columns(3)
    k1.metric("tokens", len(out.tokens))
    k2.metric("loss, new continuations", f"{sum(new) / len(new):.2f}" if new else "—")
    k3.metric("loss, repeated continuations", f"{sum(seen) / len(seen):.2f}" if seen else "—")
    ud.token_loss_chart(out.labels, out.loss, out.predictable)
    if any(out.predictable):
        ud.heatmap(
            out.target_attention,
            "attention to the token after the earlier occurrence, per head",
            threshold=induction.INDUCTION_THRESHOLD,
        )
    else:
        st.caption("No token repeats yet: repeat some words (or tick the copy) to see induction.")
    ud.attention_view(attention.attention_html(out.pattern, out.labels, out.names, data_dir))


poke_section()

if st.button("Train again", icon=":material/refresh:"):
    ud.start_run(induction.DEMO, cfg, train_fn)
    time.sleep(0.2)
    st.rerun()
