"""Streamlit helpers for the Podlens app.

``render`` and ``moments`` are pure (no Streamlit import) so they can be tested directly;
``state``, ``resources`` and ``components`` talk to Streamlit.
"""
