"""Snips: save a moment of an episode with an AI title and key takeaways; keep, export, share.

- :mod:`snips.window` cuts the window (60 s ending at the tap, snapped to sentences);
- :mod:`snips.ai` titles and summarises it (local embedding model, or an OpenAI-compatible LLM);
- :mod:`snips.highlights` finds an episode's best moments;
- :mod:`snips.store` keeps the library (``SnipStore(data_dir)``: SQLite WAL ``snips.db``);
- :mod:`snips.export` writes Obsidian, Readwise CSV, Notion and JSON; :mod:`snips.share` links.

Pure Python: nothing here imports streamlit (the app's helpers are in ``ui/snips.py``).
"""
