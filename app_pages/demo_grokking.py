"""Demo: grokking modular addition — layout only; the model and analysis are in demos/grokking."""

from __future__ import annotations

import time

import streamlit as st

from demos import grokking
from demos.bounds import is_prime
from podlens.errors import PodlensError
from ui import demos as ud
from ui import resources

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

base = grokking.PRESETS["fast"]
primes = [n for n in range(grokking.UI_LIMITS.p[0], grokking.UI_LIMITS.p[1] + 1) if is_prime(n)]
with st.form("grok_cfg", border=True):
    c1, c2, c3, c4 = st.columns(4)
    p = c1.select_slider("p (prime)", primes, value=base.p)
    frac = c2.slider("training fraction", 0.1, 0.9, base.frac_train, 0.05)
    wd = c3.slider("weight decay", 0.0, 5.0, base.weight_decay, 0.5)
    steps = c4.number_input("max steps", 100, grokking.UI_LIMITS.n_epochs[1], base.n_epochs, 100)
    st.form_submit_button("Use these settings", type="secondary")

cfg = grokking.make_config("fast", p=p, frac_train=frac, weight_decay=wd, n_epochs=int(steps))
try:
    grokking.validate(cfg, grokking.UI_LIMITS)
except PodlensError as e:
    st.error(str(e))
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
            title="Loss",
            steps=marks,
        )
    with b:
        ud.line_chart(
            records,
            {"train_acc": "train", "test_acc": "test"},
            y_title="accuracy",
            log_y=False,
            y_domain=(0, 1),
            title="Accuracy",
            steps=marks,
        )


if result is None and (run is None or run.done):
    if run is not None and run.error is not None:
        st.error(f"The last run failed: {run.error}")
    partial = run.result if run is not None else None
    label = "Resume training" if partial is not None else "Train"
    st.caption(
        f"About {grokking.estimated_minutes(cfg):.1f} min of CPU if nobody else is training."
    )
    if st.button(label, type="primary", icon=":material/play_arrow:"):
        try:
            run = ud.start_run(
                grokking.DEMO,
                cfg,
                lambda **kw: grokking.train(
                    cfg, data_dir, resume=True, limits=grokking.UI_LIMITS, **kw
                ),
            )
        except PodlensError as e:
            st.error(str(e))
        st.rerun()
    if partial is not None:
        st.info("Stopped early: the curves so far.")
        curves(partial["records"])
    st.stop()

if result is None:

    @st.fragment(run_every=1.0)
    def live() -> None:
        if run.done:
            st.rerun()
        with st.status("Training…", expanded=True):
            ud.run_controls(run, cfg.n_epochs)
            curves(list(run.records))

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
st.caption(
    f"Norm of W_E per frequency k (cos and sin of 2πk·a/{cfg.p}). Key frequencies: "
    f"**{', '.join(map(str, result['key_frequencies']))}**."
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
        title="Losses",
        steps=marks,
    )
with b:
    ud.line_chart(
        pm,
        {"gini_W_E": "Gini W_E", "gini_W_L": "Gini W_L"},
        y_title="Gini",
        log_y=False,
        title="Sparsity in the Fourier basis",
        steps=marks,
    )
    ud.line_chart(
        pm,
        {"sum_sq_weights": "Σ w²"},
        y_title="sum of squared weights",
        log_y=False,
        height=160,
        title="Total weight (weight decay shrinks it)",
        steps=marks,
    )

if st.button("Train again", icon=":material/refresh:"):
    ud.start_run(
        grokking.DEMO,
        cfg,
        lambda **kw: grokking.train(cfg, data_dir, limits=grokking.UI_LIMITS, **kw),
    )
    time.sleep(0.2)
    st.rerun()
