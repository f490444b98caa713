"""The listener's library: what ties the packages together, above ``ingest`` and ``index``.

``ingest`` turns a feed item and its transcript into an aligned :class:`~podlens.models.Episode`
and knows nothing of storage; ``index`` stores and searches episodes and knows nothing of feeds.
:mod:`library.pipeline` runs one after the other, so imports only ever point down.
"""
