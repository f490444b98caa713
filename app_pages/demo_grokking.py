"""Demo: grokking modular addition — layout only; the model and analysis are in demos/grokking."""

from __future__ import annotations

import time

import streamlit as st

from demos import grokking
from demos.bounds import is_prime
from podlens.errors import PodlensError
from ui import demos as ud
from ui import resources
from ui.render import md_text

st.title("Grokking: memorise first, understand much later")
st.markdown(
    "A one-layer transformer learns `(a + b) mod p` from a fraction of all pairs. **What to look "
    "for:** train accuracy hits 100% early while test accuracy stays low (memorisation); "
    "hundreds of steps later test accuracy shoots up (generalisation). Weight decay is what "
    "pushes it there: set it to 0 and it stays memorised. Afterwards, the embedding uses only "
    "a few Fourier frequencies, and the progress measures (restricted loss falling before test "
    "loss, excluded loss rising) show the circuit forming *before* the jump."
)

with st.expander("Where this is discussed", icon=":material/headphones:"):
    ud.episode_moments("grokking")

preset = (
    st.segmented_control(
        "setup",
        list(grokking.PRESETS),
        default="fast",
        key="grok_preset",
        help="fast: a smaller model you can tune, a minute or two; paper: Nanda et al.'s own run",
    )
    or "fast"
)
limits = grokking.app_limits(preset)
# Steps on a log axis show the fast run's early memorisation; the paper's run is plotted, as in
# the paper, on a linear one, where its three phases (memorise, form the circuit, clean up) are
# each as wide as they last.
LOG_X = preset != "paper"
if preset == "paper":
    cfg = grokking.PRESETS["paper"]
    st.caption(
        f"The paper's run: p = {cfg.p:d}, {cfg.frac_train:.0%} of the pairs, full batch, AdamW lr "
        f"{cfg.lr:g}, weight decay {cfg.weight_decay:g}, d_model {cfg.d_model:d}, {cfg.n_heads:d} "
        f"heads, d_mlp {cfg.d_mlp:d}; it stops {cfg.stop_after_grok or 0:,} epochs after test "
        f"accuracy reaches {grokking.GENERALISED_ACC:.0%} (at most {cfg.n_epochs:,})"
        + ("; the block's matmuls run in bfloat16, ~15 min on 2 cores" if cfg.bf16 else "")
        + ". It trains in the background (leave the page and come back); Stop saves it, and it "
        "resumes where it stopped, even after the app restarts."
    )
else:
    base = grokking.PRESETS["fast"]
    primes = [n for n in range(limits.p[0], limits.p[1] + 1) if is_prime(n)]
    with st.form("grok_cfg", border=True):
        c1, c2, c3, c4 = st.columns(4)
        p = c1.select_slider("p (prime)", primes, value=base.p)
        frac = c2.slider("training fraction", 0.1, 0.9, base.frac_train, 0.05)
        wd = c3.slider("weight decay", 0.0, 5.0, base.weight_decay, 0.5)
        steps = c4.number_input("max steps", 100, limits.n_epochs[1], base.n_epochs, 100)
        st.form_submit_button("Use these settings", type="secondary")
    cfg = grokking.make_config("fast", p=p, frac_train=frac, weight_decay=wd, n_epochs=int(steps))
try:
    grokking.validate(cfg, limits)
except PodlensError as e:
    st.error(md_text(str(e)))
    st.stop()

data_dir = resources.current_data_dir()
result = grokking.load_result(cfg, data_dir)
run = ud.run_for(grokking.DEMO, cfg)


def curves(records: list[dict], marks: dict[int, str] | None = None) -> None:
    a, b = st.columns(2)
    with a:
        ud.line_chart(
            records,
            {"train_loss": "train", "test_loss": "test"},
            y_title="loss",
            log_x=LOG_X,
            title="Loss",
            steps=marks,
        )
    with b:
        ud.line_chart(
            records,
            {"train_acc": "train", "test_acc": "test"},
            y_title="accuracy",
            log_x=LOG_X,
            log_y=False,
            y_domain=(0, 1),
            title="Accuracy",
            steps=marks,
        )


def measures(records: list[dict], marks: dict[int, str] | None = None) -> None:
    """Restricted and excluded loss as they are measured during training, with the key
    frequencies found so far."""
    live = [r for r in records if "restricted_loss" in r]
    if not live:
        return
    ud.line_chart(
        live,
        {
            "train_loss": "train",
            "test_loss": "test",
            "restricted_loss": "restricted (key frequencies only)",
            "excluded_loss": "excluded (key frequencies removed)",
        },
        y_title="loss",
        log_x=LOG_X,
        title="Progress measures, live",
        steps=marks,
    )
    keys = live[-1]["key_frequencies"]
    st.caption(
        f"Key frequencies of W_E at step {live[-1]['step']:,}: "
        f"**{md_text(', '.join(map(str, keys)))}** "
        "(a dense handful before the circuit forms, 4–6 once it has)."
    )


def train_fn(**kw):
    return grokking.train(cfg, data_dir, resume=True, limits=limits, **kw)


if result is None and (run is None or run.done):
    if run is not None and run.error is not None:
        st.error(f"The last run failed: {md_text(run.error)}")
    # A stopped run, from this process or saved on disk before the app restarted.
    partial = run.result if run is not None and run.result is not None else None
    partial = partial or grokking.saved_run(cfg, data_dir)
    label = "Resume training" if partial is not None else "Train"
    st.caption(
        f"About {grokking.estimated_minutes(cfg):.1f} min of CPU if nobody else is training."
    )
    if st.button(label, type="primary", icon=":material/play_arrow:"):
        try:
            run = ud.start_run(grokking.DEMO, cfg, train_fn)
        except PodlensError as e:
            st.error(md_text(str(e)))
        st.rerun()
    if partial is not None:
        done = partial["records"][-1]["step"] if partial["records"] else 0
        st.info(f"Stopped early at step {done:,} of {cfg.n_epochs:,}: the curves so far.")
        curves(partial["records"])
        measures(partial["records"])
    st.stop()

if result is None:

    @st.fragment(run_every=1.0)
    def live() -> None:
        if run.done:
            st.rerun()
        with st.status("Training…", expanded=True):
            ud.run_controls(run, cfg.n_epochs)
            recs = list(run.records)
            curves(recs)
            measures(recs)

    live()
    st.stop()

# -- finished: everything from the cache ------------------------------------------------------
mem, gen = result["memorised_step"], result["generalised_step"]
m1, m2, m3, m4 = st.columns(4)
m1.metric("test accuracy", f"{result['test_acc']:.1%}")
m2.metric("memorised at step", mem if mem is not None else "—")
m3.metric("generalised at step", gen if gen is not None else "never")
m4.metric("trained in", f"{result['seconds']:.0f} s")
if gen is None:
    st.warning("Test accuracy never reached 95%: no grokking with these settings.")
marks = {s: label for s, label in ((mem, "memorised"), (gen, "generalised")) if s is not None}
curves(result["records"], marks)

st.subheader("Fourier analysis of the embedding")
clusters = result.get("neuron_clusters") or {}  # results saved before it was recorded lack it
how = (
    " — the frequencies the MLP neurons cluster on (neurons each: "
    + ", ".join(f"{k}: {n}" for k, n in clusters.items())
    + ")"
    if clusters
    else ""
)
st.caption(
    f"Norm of W_E per frequency k (cos and sin of 2πk·a/{cfg.p:d}). Key frequencies: "
    f"**{md_text(', '.join(map(str, result['key_frequencies'])))}**{md_text(how)}."
)
ud.frequency_bars(result["frequency_norms"], result["key_frequencies"])

st.subheader("Progress measures over training")
st.caption(
    "Restricted loss keeps only the key frequencies of the logits; excluded loss removes them "
    "(on the train set). Gini: how concentrated the Fourier weights are."
)
pm = result["progress_measures"]
a, b = st.columns(2)
with a:
    ud.line_chart(
        pm,
        {
            "train_loss": "train",
            "test_loss": "test",
            "restricted_loss": "restricted (key frequencies only)",
            "excluded_loss": "excluded (key frequencies removed)",
        },
        y_title="loss",
        log_x=LOG_X,
        title="Losses",
        steps=marks,
    )
with b:
    ud.line_chart(
        pm,
        {"gini_W_E": "Gini W_E", "gini_W_L": "Gini W_L"},
        y_title="Gini",
        log_x=LOG_X,
        log_y=False,
        title="Sparsity in the Fourier basis",
        steps=marks,
    )
    ud.line_chart(
        pm,
        {"sum_sq_weights": "Σ w²"},
        y_title="sum of squared weights",
        log_x=LOG_X,
        log_y=False,
        height=160,
        title="Total weight (weight decay shrinks it)",
        steps=marks,
    )


@st.fragment
def poke_section() -> None:
    """Choose a and b; see the model's answer and which frequencies build the right logit."""
    st.subheader("Poke the trained model")
    keys = result["key_frequencies"]
    st.markdown(
        f"Choose a and b and ask the trained model for (a + b) mod {cfg.p:d}. The logits over the "
        f"{cfg.p:d} answers split exactly into Fourier components (cos and sin of "
        f"2πk·c/{cfg.p:d}); "
        "**what to look for:** once grokked, the key frequencies supply most of the correct "
        "answer's lead over the average logit."
    )
    c1, c2 = st.columns(2)
    a = c1.number_input("a", 0, cfg.p - 1, 17 % cfg.p, 1, key="pk_a")
    b = c2.number_input("b", 0, cfg.p - 1, 29 % cfg.p, 1, key="pk_b")
    model = grokking.load_model(cfg, data_dir)
    if model is None:
        st.info("The trained weights are missing: train again.")
        return
    try:
        ans = grokking.answer(model, cfg, int(a), int(b), keys)
    except PodlensError as e:
        st.error(md_text(str(e)))
        return
    m1, m2, m3 = st.columns(3)
    m1.metric(f"{ans.a:d} + {ans.b:d} mod {cfg.p:d}", ans.expected)
    m2.metric(
        "the model says",
        ans.answer,
        "right" if ans.correct else "wrong",
        delta_color="normal" if ans.correct else "inverse",
    )
    m3.metric("correct logit − mean logit", f"{ans.logit - ans.mean_logit:.2f}")
    t, f = st.columns(2)
    with t:
        ud.bars(
            {str(c): v for c, v in ans.top},
            x_title="answer",
            y_title="logit",
            highlight=str(ans.expected),
        )
        st.caption(f"The {len(ans.top)} highest logits; the correct answer in orange.")
    with f:
        parts = {f"k={k}": v for k, v in ans.by_frequency.items()}
        parts["all others"] = ans.other
        ud.bars(parts, x_title="frequency", y_title="contribution to the correct logit")
        st.caption(
            "Each key frequency's share of the correct logit above the mean "
            f"({ans.logit:.2f} = {ans.mean_logit:.2f} mean + the bars)."
        )


poke_section()

if st.button("Train again", icon=":material/refresh:"):
    ud.start_run(
        grokking.DEMO,
        cfg,
        lambda **kw: grokking.train(cfg, data_dir, limits=limits, **kw),
    )
    time.sleep(0.2)
    st.rerun()
