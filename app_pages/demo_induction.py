"""Demo: induction heads form — layout only; the model and scores are in demos/induction."""

from __future__ import annotations

import math
import time

import streamlit as st

from demos import induction
from podlens.errors import PodlensError
from ui import demos as ud
from ui import resources

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
    st.error(str(e))
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
        st.error(f"The last run failed: {run.error}")
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
m2.metric("induction heads", ", ".join(f"L{a}H{b}" for a, b in result["induction_heads"]) or "none")
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
    f"Tokens 1–{L} are random: the loss stays near ln {cfg.d_vocab} ≈ "
    f"{math.log(cfg.d_vocab):.1f} nats. Then the same {L} tokens repeat: the first one can't be "
    "guessed, but from the next on the induction head finds each token's earlier occurrence "
    "and copies what followed it, and the loss collapses."
)
st.page_link(
    ud.DEMO_PAGES["attention"],
    label="Look at every head's attention pattern",
    icon=":material/visibility:",
)

if st.button("Train again", icon=":material/refresh:"):
    ud.start_run(induction.DEMO, cfg, train_fn)
    time.sleep(0.2)
    st.rerun()
