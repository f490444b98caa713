"""Podlens' live demos, trained from scratch on the CPU with TransformerLens (no Streamlit here).

One file per idea: ``grokking`` (modular addition, Nanda et al. 2023), ``induction`` (induction
heads, Olsson et al. 2022), ``attention`` (every head's pattern on your sequence), ``analysis``
(pure scoring and Fourier functions), ``cache`` (per-config run folders, locks, background runs),
``links`` (demo <-> episode moments). CLI: ``python -m demos grokking|induction --json``.
"""
