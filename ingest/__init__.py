"""Ingest: podcast feed + transcript -> an :class:`~podlens.models.Episode` on the audio clock.

``feed`` parses RSS/Atom items and their chapters, ``transcript`` parses AXRP transcripts
(Jekyll markdown or the rendered axrp.net page) into speaker turns, ``align`` places the turns on
the audio clock through the chapter anchors, and ``pipeline`` builds the episode with its
references. Storing it is ``library.pipeline``'s job: ingest never imports ``index``.
"""
