"""Podlens' search index: chunk an episode into passages, embed them, store them, search them.

- :mod:`index.chunk` turns an episode's timed turns (and fetched papers) into passages;
- :mod:`index.embed` loads the sentence-transformers model (offline, cached);
- :mod:`index.store` keeps everything in SQLite with a derived FAISS file;
- :mod:`index.build` is the one call ingest makes: ``index_episode(episode, data_dir)``;
- :mod:`index.search` answers questions (dense + BM25, fused), ``python -m index`` is the CLI.
"""
