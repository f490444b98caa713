"""Ask an episode: a short answer made of what was said, every sentence cited to its moment.

``ask.answer.Asker(data_dir).ask(question, episode=None)`` -> :class:`ask.answer.Answer`;
``ask.llm`` lets an OpenAI-compatible endpoint phrase the answer from numbered sentences (checked,
else the extractive answer stands); ``python -m ask`` is the CLI and the evaluator.
"""
