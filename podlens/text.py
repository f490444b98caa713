"""Words of transcript text: which carry no content, and text as it is spoken.

One base list, :data:`STOP_WORDS`, says which words never tell two passages apart: English
function words plus the fillers of talk ("yeah", "kind of", "actually").  Search drops them when
it indexes and when it reads a question, and the app highlights a question's other words, so
what is marked in a result is what the lexical ranker matched on.

Two lists are derived from it, each for a narrower job:

* :data:`QUERY_STOP_WORDS` — adds the words a listener uses to talk *about* the conversation
  ("what does Neel say about ..."); only a question has them, so only a question may drop them.
  The speakers' names in such a question are the episode's own (:func:`without_speakers`).
* :func:`topic_stop_words` — for telling what a quote is *about* (snip highlights, keyphrases).
  Dropping a content word there costs little while keeping "however" or "pretty" makes junk
  keyphrases, so it adds scikit-learn's broad English list and the hedges of talk; those stay
  out of :data:`STOP_WORDS` because a search needs them ("mean ablation", "the right answer").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# Words that never tell two passages apart: English function words (NLTK's list, with the pieces
# of contractions: "don", "ll") and the fillers of talk.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don ll re ve d m o y isn aren wasn weren doesn didn haven hasn
    hadn won wouldn shouldn couldn mustn also really kind sort like think thing things
    something lot yeah okay um uh actually get got go going just one way much many well
    maybe
    """.split()  # noqa: SIM905 (a word list reads best as text)
)

# A question may drop these too: words a listener uses to talk *about* the conversation.
QUERY_STOP_WORDS = STOP_WORDS | frozenset(
    """
    guest host say says said saying mention mentions mentioned talk
    talks talked talking discuss discussed describe describes described explain explains
    explained according episode podcast conversation interview tell tells told claim claims
    argue argues argued point
    """.split()  # noqa: SIM905 (a word list reads best as text)
)

# Hedges and fillers of talk that a search still needs ("mean" ablation, the "right" answer,
# "know" as a verb of the topic): no topic, but not in STOP_WORDS.
HEDGE_WORDS = frozenset(
    """
    basically bit gonna guess know mean ok pretty probably right said say somewhat stuff sure
    want
    """.split()  # noqa: SIM905 (a word list reads best as text)
)


def is_question(sentence: str) -> bool:
    """Whether a sentence ends on a question mark, before any closing quote marks or brackets
    ('I was like, "Wait, what?"')."""
    return sentence.rstrip().rstrip("\"'”’)]").endswith("?")


def speaker_words(speakers: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of speakers' names: ``["Neel Nanda"]`` -> ``{"neel", "nanda"}``."""
    return frozenset(w for name in speakers for w in _WORD.findall(name.lower()) if len(w) > 1)


def without_speakers(question: str, names: frozenset[str], keep: int = 3) -> str:
    """``question`` without the words that name the episode's speakers ("What does Neel think
    of X?" -> "What does think of X?"), unless fewer than ``keep`` words would be left ("Who is
    Neel Nanda?").  A name in a question says who said it, not what was said; left in, it draws
    the one stretch that says the name, the host's introduction of the guest."""
    words = question.split()
    kept = [w for w in words if _name_of(w) not in names]
    return " ".join(kept) if len(kept) >= keep and len(kept) < len(words) else question


_WORD = re.compile(r"[a-z0-9]+")


def _name_of(word: str) -> str:
    """A word as a name: lower-cased, without its punctuation or possessive ("Neel's," -> neel)."""
    return re.sub(r"['’]s$", "", re.sub(r"^\W+|\W+$", "", word.lower()))


@cache
def topic_stop_words() -> frozenset[str]:
    """Every word that says nothing about what a quote is about: :data:`STOP_WORDS`,
    :data:`HEDGE_WORDS` and scikit-learn's English list (imported on first use: it is slow)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return STOP_WORDS | HEDGE_WORDS | ENGLISH_STOP_WORDS


_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def clean_text(text: str) -> str:
    """Text as spoken: Markdown links reduced to their words, whitespace collapsed."""
    return re.sub(r"\s+", " ", _LINK.sub(r"\1", text)).strip()
