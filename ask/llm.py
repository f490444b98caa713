"""An LLM phrases the answer, but may only cite what it was given, and is checked.

The endpoint is the one snips already use (``PODLENS_LLM_*``, :class:`snips.ai.OpenAIProvider`,
HTTP through :mod:`podlens.http`).  It gets the question and the top candidate sentences,
numbered ``[1]``..``[n]`` with time and speaker, and must reply with JSON::

    {"not_discussed": false,
     "sentences": [{"text": "...", "citations": [{"id": 3, "quote": "exact words from [3]"}]}]}

The reply is checked before anything of it is shown: every sentence cites at least one id, every
id is one it was given, every quote is in that sentence's text (case, spacing and punctuation
aside), and the answer is at most ``MAX_WORDS`` words.  A reply that fails any check (or an
endpoint that fails) is rejected: the extractive answer is shown instead, with the reason.  The
citations shown are always the stream's own sentences, never the model's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ask.answer import NOT_DISCUSSED, Answer, Candidate, Citation, to_citation
from podlens.config import settings
from podlens.errors import PodlensError
from podlens.timecode import fmt_time
from snips.ai import OpenAIProvider, ProviderError, json_reply

MAX_PASSAGES = 12
MAX_WORDS = 150  # the answer's words, its own (the extractive one keeps to ~120)

SYSTEM_PROMPT = (
    "You answer a listener's question about a podcast episode using ONLY the numbered "
    "sentences you are given (what was said, verbatim). Reply with JSON only: "
    '{"not_discussed": false, "sentences": [{"text": "...", "citations": [{"id": 1, '
    '"quote": "exact words copied from sentence 1"}]}]}. At most 3 short sentences, under 100 '
    "words in all. Every sentence must cite at least one id you were given, each with a quote "
    "copied exactly from that sentence. If the sentences do not answer the question, reply "
    '{"not_discussed": true, "sentences": []}.'
)


class Rejected(Exception):
    """The model's answer does not check out; ``str(e)`` says why."""


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text).split())


def prompt(question: str, passages: Sequence[Candidate]) -> str:
    lines = [f"Question: {question}", "", "Sentences:"]
    for n, c in enumerate(passages, 1):
        where = fmt_time(c.start) if c.start is not None else "paper"
        who = c.speaker or (c.title or "")
        lines.append(f"[{n}] ({where}, {who}) {c.text}")
    return "\n".join(lines)


def parse_reply(content: str) -> dict[str, Any]:
    try:
        return json_reply(content)
    except ProviderError:
        raise Rejected("the model's answer is not a JSON object") from None


def check(data: dict[str, Any], passages: Sequence[Candidate]) -> list[tuple[str, list[int]]]:
    """``(sentence text, [passage indices it cites])`` for each sentence, or Rejected."""
    sentences = data.get("sentences")
    if not isinstance(sentences, list) or not sentences:
        raise Rejected("the model gave no sentences")
    out: list[tuple[str, list[int]]] = []
    words = 0
    for k, s in enumerate(sentences, 1):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str) or not s["text"].strip():
            raise Rejected(f"sentence {k} has no text")
        cites = s.get("citations")
        if not isinstance(cites, list) or not cites:
            raise Rejected(f"sentence {k} cites nothing")
        ids: list[int] = []
        for c in cites:
            raw = c.get("id") if isinstance(c, dict) else c
            try:
                i = int(str(raw).strip().strip("[]S"))
            except ValueError:
                raise Rejected(f"sentence {k} cites {raw!r}, not a sentence id") from None
            if not 1 <= i <= len(passages):
                raise Rejected(f"sentence {k} cites [{i}], which it was not given")
            quote = c.get("quote") if isinstance(c, dict) else None
            if not isinstance(quote, str) or not _norm(quote):
                raise Rejected(f"sentence {k} quotes nothing from [{i}]")
            if _norm(quote) not in _norm(passages[i - 1].text):
                raise Rejected(f"sentence {k} quotes words that are not in [{i}]: {quote[:80]!r}")
            ids.append(i - 1)
        text = " ".join(s["text"].split())
        words += len(text.split())
        out.append((text, list(dict.fromkeys(ids))))
    if words > MAX_WORDS:
        raise Rejected(f"the answer is {words} words (at most {MAX_WORDS})")
    return out


class LLMAnswerer:
    """Answers through ``provider`` (an :class:`OpenAIProvider`), checked; else extractive."""

    def __init__(self, provider: OpenAIProvider, max_passages: int = MAX_PASSAGES):
        self.provider = provider
        self.max_passages = max_passages
        self.name = f"{provider.name}:{provider.model}"

    def answer(self, question: str, cands: Sequence[Candidate], extractive: Answer) -> Answer:
        """The model's answer when it checks out, else ``extractive`` with ``reason`` set."""
        passages = [c for c in cands if c.episode == extractive.episode][: self.max_passages]
        passages.sort(key=lambda c: (c.kind != "transcript", c.start or 0.0, c.index))
        try:
            data = parse_reply(self.provider.chat(SYSTEM_PROMPT, prompt(question, passages)))
            if data.get("not_discussed") is True:
                return Answer(
                    question,
                    NOT_DISCUSSED,
                    True,
                    closest=extractive.citations,
                    episode=extractive.episode,
                    confidence=extractive.confidence,
                    provider=self.name,
                )
            checked = check(data, passages)
        except (Rejected, ProviderError, PodlensError) as e:
            extractive.reason = f"{self.name} answer rejected: {e}"
            return extractive
        cites: list[Citation] = []
        number: dict[int, int] = {}
        parts: list[str] = []
        for text, ids in checked:
            marks = []
            for i in ids:
                if i not in number:
                    number[i] = len(cites) + 1
                    cites.append(to_citation(number[i], [passages[i]]))
                marks.append(f"[{number[i]}]")
            parts.append(f"{text} {''.join(marks)}")
        return Answer(
            question,
            " ".join(parts),
            False,
            cites,
            episode=extractive.episode,
            confidence=extractive.confidence,
            provider=self.name,
        )


def llm_from_env() -> LLMAnswerer | None:
    """The configured endpoint (``PODLENS_LLM_BASE_URL`` and ``_MODEL``), or None: local only."""
    provider = OpenAIProvider.from_settings(settings())
    return LLMAnswerer(provider) if provider else None
