"""The AI part of a snip: a short title and 1-3 key takeaways for a quote.

Two providers share one interface (:class:`Provider`):

* :class:`LocalProvider` runs offline on the embedding model: KeyBERT keyphrases say what the
  quote is about; the title is the best of a few extractive candidates (a question asked in the
  quote, a "there's something ..." clause turned into a question, or the top keyphrases as a
  topic); takeaways are the quote's most central, self-contained sentences picked with maximal
  marginal relevance (MMR) so they do not repeat each other.
* :class:`OpenAIProvider` asks any OpenAI-compatible ``/chat/completions`` endpoint for JSON
  ``{"title": ..., "takeaways": [...]}``; configured by ``PODLENS_LLM_BASE_URL``,
  ``PODLENS_LLM_API_KEY`` (optional for local servers) and ``PODLENS_LLM_MODEL``.

:func:`provider_from_env` returns the LLM provider wrapped in :class:`FallbackProvider` when it is
configured (any failure falls back to the local one and says why), else the local one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from index.embed import embed_texts, load_embedder
from podlens.config import Settings, settings
from podlens.errors import PodlensError
from podlens.http import FetchError, HttpClient, HttpConfig
from podlens.sentences import split_sentences
from podlens.text import clean_text, is_question, topic_stop_words
from snips.window import split_speaker

MAX_TAKEAWAYS = 3
MAX_TITLE_WORDS = 10

_SMALL_WORDS = {
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "to",
    "for",
    "and",
    "or",
    "at",
    "by",
    "vs",
    "as",
    "but",
    "nor",
    "per",
}
_LEAD_FILLER_RE = re.compile(
    r"^(?:(?:so|and|but|yeah|yes|okay|ok|well|right|now|also|like|um|uh|i mean|i guess|just|"
    r"i think|you know|basically|actually|anyway)\b[,.]?\s+)+",
    re.IGNORECASE,
)
_INNER_FILLER_RE = re.compile(
    r",?\s*\b(?:kind of|sort of|you know|i mean|basically|like,)\s*(?=\w)", re.IGNORECASE
)
_REPEAT_RE = re.compile(r"\b(\w+)(?:,?\s+\1\b)+", re.IGNORECASE)
_DANGLING_START = {
    "this",
    "that",
    "it",
    "these",
    "those",
    "he",
    "she",
    "they",
    "which",
    "yes",
    "no",
    "here",
    "there",
    "then",
    "also",
    "and",
    "but",
    "or",
    "because",
}
_THERE_RE = re.compile(r"\bthere(?:'s| is| are)\s+(?:just\s+|also\s+|really\s+)*(.+)", re.I)
# A speaker announcing a definition: "I should explain what an induction head is (before ...)".
_EXPLAIN_WHAT_RE = re.compile(
    r"\b(?:explain|describe|define|say|tell (?:you|us|me))\s+what\s+"
    r"((?:an?|the)\s+[\w' -]+?)\s+(is|are)"
    r"(?=\s*(?:$|[,.;:?!]|(?:before|first|exactly|here|now|and|so|then)\b))",
    re.IGNORECASE,
)


@dataclass
class SnipContext:
    """What a provider may know about the quote besides its text."""

    episode_title: str = ""
    podcast: str = ""
    chapter: str = ""
    speaker: str = ""


@dataclass
class Summary:
    title: str
    takeaways: list[str]
    provider: str
    fallback_reason: str | None = None
    keyphrases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "takeaways": list(self.takeaways),
            "provider": self.provider,
            "fallback_reason": self.fallback_reason,
        }


class ProviderError(Exception):
    """A provider could not produce a usable summary (network, HTTP status, bad JSON)."""


class Provider(Protocol):
    name: str

    def summarize(self, quote: str, context: SnipContext | None = None) -> Summary: ...


def mmr(
    relevance: np.ndarray,
    sim: np.ndarray,
    k: int,
    lam: float = 0.7,
    min_rel: float = 0.0,
    max_sim: float = 1.0,
) -> list[int]:
    """Maximal marginal relevance: pick up to ``k`` indices, each relevant but unlike the picked.

    ``relevance[i]`` scores item i; ``sim[i, j]`` is their similarity.  Items whose relevance is
    under ``min_rel`` are never picked, nor items more similar than ``max_sim`` to one already
    picked (near-paraphrases).
    """
    picked: list[int] = []
    candidates = [i for i in range(len(relevance)) if relevance[i] >= min_rel]
    while candidates and len(picked) < k:

        def score(i: int) -> float:
            redundancy = max((float(sim[i, j]) for j in picked), default=0.0)
            return lam * float(relevance[i]) - (1 - lam) * redundancy

        best = max(candidates, key=lambda i: (score(i), -i))
        picked.append(best)
        candidates = [i for i in candidates if i != best and float(sim[i, best]) <= max_sim]
    return picked


# --------------------------------------------------------------------------- text helpers


def tidy_sentence(text: str) -> str:
    """A spoken sentence made readable: leading fillers, hedges and stutters removed."""
    s = clean_text(text)
    s = _LEAD_FILLER_RE.sub("", s)
    s = _INNER_FILLER_RE.sub(" ", s)
    s = _REPEAT_RE.sub(r"\1", s)
    s = re.sub(r"\s+([,.!?;:])", r"\1", re.sub(r"\s+", " ", s)).strip(" ,;:-")
    s = _balance_quotes(s)
    if not s:
        return s
    i = 1 if s[0] in '"“' and len(s) > 1 else 0  # '"it is ...' -> '"It is ...'
    s = s[:i] + s[i].upper() + s[i + 1 :]
    return _ended(s)


# Terminal punctuation, then any closing quote marks or brackets: 'next."' has ended.
_ENDS_SENTENCE_RE = re.compile(r"[.!?…][\"'”’)\]]*$")


def _ended(s: str) -> str:
    """``s`` with a full stop unless it has ended already."""
    return s if _ENDS_SENTENCE_RE.search(s) else s + "."


def _balance_quotes(s: str) -> str:
    """A sentence cut out of a quotation that spans sentences, with its marks balanced.

    The splitter cuts '... it says, "Has this token appeared in the past? If yes, then ...
    come next."' into two sentences, each with one mark: one at either end is dropped; one
    inside is matched where the sentence ends ('like, "Oh, head 9 ...' gets its closing mark,
    'never going to scale," I thought' its opening one)."""
    if s.count('"') % 2:
        if s.endswith('"'):
            s = s[:-1].rstrip()
        elif s.startswith('"'):
            s = s[1:].lstrip()
        else:
            i = s.rindex('"')
            opens = s[i - 1].isspace() and i + 1 < len(s) and not s[i + 1].isspace()
            # The quotation runs on past this sentence (close it here) or began before it.
            s = _ended(s) + '"' if opens else '"' + s
    if s.count("“") != s.count("”"):
        s = s.removesuffix("”").removeprefix("“").strip()
    return s


def title_case(text: str) -> str:
    words = text.split()
    out = []
    for i, w in enumerate(words):
        if any(c.isupper() for c in w) or not w[:1].isalpha():
            out.append(w)  # keep "AdamW", "GPT-2", "'A"
        elif i and w.lower() in _SMALL_WORDS:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


def _surface_form(phrase: str, text: str) -> str:
    """The phrase as it is written in ``text`` (KeyBERT lowercases: "adamw" -> "AdamW")."""
    pattern = r"\b" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"\b"
    m = re.search(pattern, text, re.IGNORECASE)
    return m.group(0) if m else phrase


def _question_from_clause(clause: str) -> str | None:
    """ "there's something weird about the optimizer" -> "Is There Something Weird About the
    Optimizer?"; "I should explain what an induction head is" -> "What Is an Induction Head?"
    (only shapes that turn into a question without guessing)."""
    m = _EXPLAIN_WHAT_RE.search(clause)
    if m and 1 <= len(m.group(1).split()) <= MAX_TITLE_WORDS - 3:
        return title_case(f"What {m.group(2).lower()} {m.group(1)}") + "?"
    m = _THERE_RE.search(clause)
    if not m:
        return None
    rest = re.split(r"\s+(?:that|which|because|where|when|so)\s+|[,;:]", m.group(1))[0]
    rest = re.sub(r"\s+we're using$|\s+we use$", "", rest.strip(" .!?"))
    words = rest.split()
    if not 2 <= len(words) <= MAX_TITLE_WORDS - 2:
        return None
    verb = "Are" if re.search(r"there are", m.group(0), re.I) else "Is"
    return title_case(f"{verb} there {rest}") + "?"


QUESTION_BONUS = 0.04  # a question asked in the moment is how a listener remembers it
STATED_IDEA_MARGIN = 0.15  # a claim or question beats the keyphrase topic unless this much less
# like the whole quote (keyphrases are picked for that likeness, so they start ahead)
_QUESTION_TAIL_RE = re.compile(
    r"(?:,?\s+(?:or|right|is that right|is that fair|or something|or not|or what)[.…]*)+\?$",
    re.IGNORECASE,
)
_CLAUSE_SPLIT_RE = re.compile(
    r"[,;:]\s+|\s+(?:because|which means|which is|which|where|so that|so|but|and then|then|"
    r"whereas|while|until|although|and so)\s+",
    re.IGNORECASE,
)
_CLAIM_LEAD_RE = re.compile(
    r"^(?:(?:and|but|so|then|that|now|sorry|hypothesis \w+|i think|i guess|i feel like|"
    r"my guess is|the answer is|i mean|it seems like|it seems|basically|specifically|"
    r"essentially|in some sense|in practice|for example|the idea is|the point is|the claim is|"
    r"the thing is|my sense is|the way i think about it is|(?:it )?turns out|i would say|"
    r"to me|in my opinion|in my eyes)\b[,:]?\s+)+",
    re.IGNORECASE,
)
# "The final answer to the question is: X", "the way transformers work is that X": the claim is X.
_FRAME_RE = re.compile(
    r"^(?:the|my|one|our)\s+(?:[\w'-]+\s+){0,8}?(?:is|was)(?:\s+that\b|\s*:)\s*", re.IGNORECASE
)
# A long statement keeps its head when a relative or purpose clause follows it: "induction heads
# are an interesting non-trivial circuit [that occur in all model scales]".
_TAIL_RE = re.compile(r"\s+(?:that|who|whose|in order to|to get|such that|for which)\s+", re.I)
_HEDGE_RE = re.compile(
    r"\b(?:just|really|kind of|sort of|pretty much|basically|actually|very|quite|somewhat|"
    r"fairly|probably)\s+",
    re.IGNORECASE,
)
_AUX = frozenset(
    """is are was were be been am has have had does do did can could will would should may might
    must isn't aren't wasn't doesn't don't didn't can't won't""".split()  # noqa: SIM905
)


# A claim starting with one of these needs the sentence before it (or is the speaker, not the
# idea: "we're using AdamW" says what they did, not what the moment is about).
_CLAIM_BAD_START = _DANGLING_START | {
    "i",
    "we",
    "you",
    "my",
    "our",
    "your",
    "if",
    "when",
    "what",
    "so",
    "like",
    "um",
    "uh",
    "sorry",
    "let",
    "let's",
    "one",
    # A subordinate clause leans on a main clause it lacks ("Even if the model was outputting
    # gibberish", "once you're robust to the noise"), and a clause opening on its verb has lost
    # its subject ("is worse than scaling laws", "was a result of dropout").
    "though",
    "although",
    "even",
    "once",
    "after",
    "before",
    "where",
    "while",
    "because",
    "since",
    "unless",
    "until",
    "whether",
    "of",
    "from",
    *_AUX,
}


def _short_question(sentence: str) -> str | None:
    """A question in ``sentence`` short enough for a title: tails like "..., or...?" and
    "right?" dropped; a long one keeps its last clause when that is a question by itself."""
    if not sentence.endswith("?"):
        return None
    q = _QUESTION_TAIL_RE.sub("?", sentence).strip()
    q = re.sub(r"\s+(?:e\.g\.|i\.e\.)(?=\s)", "", q, flags=re.I)
    q = re.sub(r"^(?:(?:sorry|okay|so|and|but|or|right|yeah)\b[,.]?\s+)+", "", q, flags=re.I)
    if len(q.split()) > MAX_TITLE_WORDS:
        q = re.split(r"[,;:]\s+", q)[-1]
    words = q.split()
    if not 3 <= len(words) <= MAX_TITLE_WORDS or first_word(q) in {"that", "this", "it"}:
        return None
    return title_case(q[0].upper() + q[1:])


# A claim ending on one of these was cut off mid-phrase ("... didn't do amazingly if you") or
# leaves what it is about unsaid ("K composition is when you're using it").
_CLAIM_BAD_END = _AUX | {"that", "if", "when", "because", "than"} | {
    "i", "we", "you", "he", "she", "it", "they", "me", "us", "him", "them",
}  # fmt: skip
# "Confirmatory techniques are things [where ...]", "induction is one of the things [...]": an
# unqualified "thing" ends where what it is was about to be said ("such an important thing"
# says it).
_VAGUE_END_RE = re.compile(
    r"\b(?:is|are|was|were|a|the|this|these|those|of)\s+(?:thing|things|stuff)$", re.I
)


def _claims(sentence: str) -> list[str]:
    """Short statements ``sentence`` makes: its clauses of 4 to ``MAX_TITLE_WORDS - 1`` words
    (a longer one cut before a relative or purpose clause), lead-ins ("So hypothesis two,", "the
    way X works is that") and hedges ("just", "kind of") removed, that stand alone."""
    out = []
    sentence = re.sub(r"\s+(?:e\.g\.|i\.e\.)(?=\s)", "", sentence, flags=re.I)
    for piece in _CLAUSE_SPLIT_RE.split(sentence.rstrip(".!?…")):
        c = _CLAIM_LEAD_RE.sub("", piece.strip())
        c = _CLAIM_LEAD_RE.sub("", _FRAME_RE.sub("", c))
        c = _HEDGE_RE.sub("", c).strip(" ,;:-\"'“”")
        if len(c.split()) > MAX_TITLE_WORDS - 1:
            c = _TAIL_RE.split(c, maxsplit=1)[0]
        if len(c.split()) > MAX_TITLE_WORDS - 1:
            c = re.split(r"\s+and\s+", c, maxsplit=1)[0]  # the first of two joined claims
        c = _head(c)
        words = c.split()
        if not 4 <= len(words) <= MAX_TITLE_WORDS - 1 or first_word(c) in _CLAIM_BAD_START:
            continue
        if words[-1].lower() in _SMALL_WORDS or words[-1].lower() in _CLAIM_BAD_END:
            continue
        if _VAGUE_END_RE.search(c):
            continue
        if first_word(c).endswith("ing") or not _has_verb(words):
            continue  # "preserving train loss", "up to about 13 billion parameters": no claim
        if _opens_on_verb(words):
            continue
        out.append(title_case(c[0].upper() + c[1:]))
    return out


_PREPOSITIONS = frozenset(
    """in on at from for with by about into over through between around after before during
    without like""".split()  # noqa: SIM905
)


def _head(clause: str) -> str:
    """A clause too long for a title cut before the last preposition or -ly adverb that leaves
    at most ``MAX_TITLE_WORDS - 1`` words ("grokking is this mystery in deep learning [famously
    found in this OpenAI paper]"); quote marks around its words dropped."""
    words = [w.strip("\"'“”‘’") for w in clause.split()]
    words = [w for w in words if w]
    if len(words) <= MAX_TITLE_WORDS - 1:
        return " ".join(words)
    cuts = [
        i
        for i in range(4, MAX_TITLE_WORDS)
        if words[i].lower() in _PREPOSITIONS
        or (words[i].lower().endswith("ly") and len(words[i]) > 4)
    ]
    return " ".join(words[: cuts[-1]]) if cuts else " ".join(words)


# A word that follows a clause's first word only when that word is a verb: an object ("realizes
# [this] is the Eiffel Tower", "design [what] we call progress measures") or an infinitive
# ("wants [to] have different attention patterns"). A subject noun is followed by its verb.
_OBJECT_START = frozenset(
    """this these those the a an to what how it them him her its their his my your our us me
    whatever""".split()  # noqa: SIM905
)


def _opens_on_verb(words: list[str]) -> bool:
    """Whether a clause starts on its verb, its subject left in the clause it was cut from ("the
    model ... wants to do different kinds of induction, [wants to have different attention
    patterns]", "metrics ... which [track progress towards the eventual emergent phenomena]"):
    its second word is an object or "to", or its first is a common verb and its second neither
    a verb nor a preposition ("Scale matters", "Work on superposition is ..." keep theirs)."""
    first, second = (_bare(w) for w in words[:2])
    if first in _PREPOSITIONS or first in {"maybe", "perhaps"} or first.endswith("ly"):
        return False  # "In their defense, ...", "Maybe the memorization is ...": not a verb
    if second in _OBJECT_START:
        return True
    return first in _COMMON_VERBS and not (
        second in _AUX or second in _COMMON_VERBS or second in _PREPOSITIONS
    )


def _bare(word: str) -> str:
    """A word of a clause lowercase, without the punctuation and quote marks around it."""
    return word.lower().strip(".,;:!?\"'“”")


def _has_verb(words: list[str]) -> bool:
    """Whether the words say something (a finite verb we can recognise without a parser)."""
    for w in words:
        low = _bare(w)
        if low in _AUX or low in _COMMON_VERBS or re.search(r"'(?:s|re|ve|ll|d)$|n't$", low):
            return True
    return False


_PRONOUN_END_RE = re.compile(r"\b(?:this|that|it)\?$", re.IGNORECASE)


def _resolve_question(question: str, topic: str) -> str:
    """A question that ends on "this"/"that"/"it" names what it asks about instead: "Can We
    Somehow Automate This?" -> "Can We Somehow Automate Mechanistic Interpretability?" (the
    moment's top keyphrase, when it is a phrase of two or more words the question lacks)."""
    if len(topic.split()) < 2 or topic.lower() in question.lower():
        return question
    if not _PRONOUN_END_RE.search(question):
        return question
    return _PRONOUN_END_RE.sub(title_case(topic) + "?", question)


_NAME_RE = re.compile(r"(?<![.!?]\s)\b[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9-]*\b|\b[A-Z][a-z]+\b")


def _clean_phrase(phrase: str) -> str:
    """A keyphrase as written, without the quote marks around its words ("deep learning'")."""
    return " ".join(w.strip("\"'“”‘’") for w in phrase.split() if w.strip("\"'“”‘’"))


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"\w+", text.lower())}


def first_word(text: str) -> str:
    """The first word, lowercase, without punctuation or a contraction ("It's" -> "it")."""
    words = text.split()
    return re.sub(r"\W", "", words[0].split("'")[0].split("’")[0].lower()) if words else ""


def _limit_words(text: str, n: int) -> str:
    words = text.split()
    return text if len(words) <= n else " ".join(words[:n]).rstrip(",;:") + "…"


# --------------------------------------------------------------------------- local provider


_COMMON_VERBS = frozenset(
    """be is are was were been being am do does did done doing have has had having make makes
    made making get gets got getting go goes went going say says said saying see sees saw
    seen take takes took taken give gives gave given use uses used using try tries tried
    trying want wants wanted think thinks thought know knows knew mean means meant seem
    seems seemed let lets look looks looked need needs needed find finds found call calls
    called work works worked keep keeps kept put puts come comes came tell tells told feel
    feels felt believe expect happen happens happened change changes changed track tracks
    tracked point points start starts started reach reaches reached remove removed cross
    crosses clean cleans cleaned matter matters lower lowers scale scales turn turns turned
    show shows showed talk talks talked guess bunch""".split()  # noqa: SIM905
)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*[A-Za-z0-9]|[A-Za-z]|[,.;:!?()\[\]\"“”]")


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ies", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def candidate_phrases(text: str, max_words: int = 3) -> dict[str, int]:
    """RAKE-style candidate keyphrases (lowercase) with how often each occurs in ``text``."""
    stop = topic_stop_words() | _COMMON_VERBS
    runs: list[list[str]] = [[]]
    last = ""  # the word before the current token
    for tok in _WORD_RE.findall(text):
        low = tok.lower()
        is_break = (
            not tok[0].isalnum()
            or low in stop
            or "'" in low
            or (low.endswith("ly") and len(low) > 4)
            or len(low) < 3
            or (not runs[-1] and last in _VERB_NEXT)  # a run never opens on a verb
        )
        if is_break:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(low)
        last = low
    counts: dict[str, int] = {}
    for run in runs:
        for n in range(1, max_words + 1):
            for i in range(len(run) - n + 1):
                if _past_verb(run[i + n - 1]):
                    continue
                phrase = " ".join(run[i : i + n])
                counts[phrase] = counts.get(phrase, 0) + 1
    return counts


# After these the next word is a verb: a modal or a subject pronoun ("you can [divide]
# cognition", "they [form] induction heads"). ("hard to [compress] features" too, but after "to"
# the topics left were no better: "Features and Total Tangent".)
_VERB_NEXT = frozenset(
    "can could will would should might must may cannot i we they he she".split()  # noqa: SIM905
)


def _past_verb(word: str) -> bool:
    """A word ending a phrase in "-ed" is a verb ("Redwood studied", "the model memorized"): an
    adjective in "-ed" comes before its noun ("trained model"), inside the phrase."""
    return len(word) >= 5 and word.endswith("ed") and not word.endswith("eed")


class LocalProvider:
    """Title and takeaways from the embedding model alone (no network, deterministic)."""

    name = "local"

    def __init__(self, embedder: Any = None) -> None:
        self._embedder = embedder
        self._kw: Any = None

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = load_embedder()  # the index's model, loaded once per process
        return self._embedder

    def keyphrases(self, text: str, top_n: int = 5) -> list[tuple[str, float]]:
        """Keyphrases of ``text`` as written there, best first, not repeating each other.

        Candidates are runs of 1-3 content words (split at stop words, fillers, common verbs,
        adverbs and punctuation, as in RAKE); KeyBERT ranks them by similarity to the text; a
        phrase said more than once, or of two or three words, gets a small bonus; a phrase whose
        words (stems) are all in better ones is dropped.
        """
        from keybert import KeyBERT

        cands = candidate_phrases(text)
        if not cands:
            return []
        if self._kw is None:
            self._kw = KeyBERT(model=self.embedder)
        try:
            ranked = self._kw.extract_keywords(
                text,
                candidates=sorted(cands),
                keyphrase_ngram_range=(1, 3),
                top_n=len(cands),
                stop_words=None,
            )
        except ValueError:  # nothing left to rank
            return []
        scored = sorted(
            (
                (p, float(sim) + 0.03 * min(cands.get(p, 1) - 1, 3) + 0.04 * p.count(" "))
                for p, sim in ranked
            ),
            key=lambda ps: (-ps[1], ps[0]),
        )
        out: list[tuple[str, float]] = []
        seen: set[str] = set()
        for phrase, score in scored:
            stems = {_stem(w) for w in phrase.split()}
            if stems <= seen:
                continue
            seen |= stems
            out.append((_surface_form(phrase, text), score))
            if len(out) == top_n:
                break
        return out

    def summarize(self, quote: str, context: SnipContext | None = None) -> Summary:
        text = clean_text(quote)
        if not text:
            raise PodlensError("cannot summarise an empty quote")
        # Speaker prefixes added for multi-speaker quotes are not content.
        body = "\n".join(split_speaker(line)[1] for line in quote.splitlines())
        # Whole sentences, however long: a takeaway must not start inside one.
        sents = [s for s in split_sentences(body, max_words=None) if len(s.split()) >= 3] or [text]
        # What the quote is about is said in its words, not in the speakers' names.
        content = clean_text(body) or text
        phrases = self.keyphrases(content)
        doc_vec = embed_texts(self.embedder, [content])[0]
        return Summary(
            title=self._title(text, sents, phrases, doc_vec),
            takeaways=self._takeaways(sents, phrases, doc_vec),
            provider=self.name,
            keyphrases=[p for p, _ in phrases],
        )

    def _title(
        self, text: str, sents: list[str], phrases: list[tuple[str, float]], doc_vec: np.ndarray
    ) -> str:
        """The title that says the moment's idea the way a listener would put it.

        Candidates, all built from the quote's own words: a question asked in it (trimmed to
        its core), a "there's something ..." clause turned into a question, and the claims its
        sentences make (a clause of 4-9 words, hedges and lead-ins dropped, that does not lean
        on the sentence before).  Each must mention one of the top keyphrases' words; the one
        closest to the whole quote (the embedding model) wins, questions by a small margin.
        The keyphrase topic is the fallback when every candidate is clearly less on topic."""
        top = [p.lower() for p, _ in phrases[:3]]
        top_stems = {_stem(w) for p in top for w in p.split()}
        questions: list[str] = []
        claims: list[str] = []
        for s in sents:
            s = tidy_sentence(s)
            q = _short_question(s)
            if q:
                questions.append(_resolve_question(q, _clean_phrase(top[0])) if top else q)
            for clause in re.split(r"(?<=[,;])\s+", s):
                q = _question_from_clause(clause)
                if q:
                    questions.append(q)
            if not is_question(s):  # a question is a claim of nothing
                claims.extend(_claims(s))

        def on_topic(c: str) -> bool:
            return bool(top_stems & {_stem(w) for w in re.findall(r"\w+", c)})

        candidates = list(dict.fromkeys(c for c in questions + claims if on_topic(c)))
        topic = self._topic_title(phrases, text)
        if not candidates:
            return topic
        vecs = embed_texts(self.embedder, [*candidates, topic])
        scores = vecs @ doc_vec
        asked = set(questions)
        ranked = scores[:-1] + np.array([QUESTION_BONUS if c in asked else 0.0 for c in candidates])
        best = int(np.argmax(ranked))
        # A stated idea reads better than a bare topic; keep it unless clearly less on topic.
        return candidates[best] if scores[best] >= scores[-1] - STATED_IDEA_MARGIN else topic

    @staticmethod
    def _topic_title(phrases: list[tuple[str, float]], text: str) -> str:
        if not phrases:
            return title_case(_limit_words(tidy_sentence(text).rstrip("."), 6))
        first = _clean_phrase(phrases[0][0])
        longer = next(
            (
                _clean_phrase(p)
                for p, s in phrases[1:3]
                if _stems(first) < _stems(p) and s >= 0.9 * phrases[0][1]
            ),
            None,
        )
        first = longer or first  # "deep learning" says more than "learning"
        for p, s in phrases[1:]:
            p = _clean_phrase(p)
            if (
                not _stems(p) & _stems(first)
                and s >= 0.8 * phrases[0][1]
                and len((first + " " + p).split()) <= 6
            ):
                return title_case(f"{first} and {p}")
        return title_case(first)

    def _takeaways(
        self, sents: list[str], phrases: list[tuple[str, float]], doc_vec: np.ndarray
    ) -> list[str]:
        tidy = [tidy_sentence(s) for s in sents]
        keep = [i for i, t in enumerate(tidy) if t and not is_question(t)] or list(range(len(tidy)))
        cands = [tidy[i] for i in keep]
        vecs = embed_texts(self.embedder, cands)
        rel = vecs @ doc_vec
        top = [p.lower() for p, _ in phrases[:5]]
        for i, c in enumerate(cands):
            n = len(c.split())
            low = c.lower()
            rel[i] += 0.05 * sum(1 for p in top if p in low)
            # Named things (AdamW, GPT-2) carry information a takeaway should keep.
            rel[i] += 0.04 * min(2, len(set(_NAME_RE.findall(c[1:]))))
            # The listener tapped for what they just heard: later sentences weigh a bit more.
            rel[i] += 0.08 * keep[i] / max(1, len(tidy) - 1)
            if first_word(c) in _DANGLING_START:
                rel[i] -= 0.15  # needs the previous sentence to make sense
            if n < 6:
                rel[i] -= 0.3
            elif n > 40:
                rel[i] -= 0.2
        best = float(rel.max())
        picked = mmr(rel, vecs @ vecs.T, MAX_TAKEAWAYS, lam=0.6, min_rel=best - 0.25, max_sim=0.7)
        out = [_balance_quotes(_limit_words(cands[i], 45)) for i in sorted(picked)]
        return [_ended(t) for t in out]


# --------------------------------------------------------------------------- OpenAI-compatible

SYSTEM_PROMPT = (
    "You write snips for a podcast app. Given a quote from an episode, answer with JSON only: "
    '{"title": "...", "takeaways": ["...", "..."]}. The title says what the moment is about in '
    "at most 8 words, as a question or a topic (e.g. 'Is There Something Weird About the "
    "Optimizer?'). Give 1 to 3 takeaways: short sentences that stand alone without the quote, "
    "faithful to what the speaker said, no new facts."
)


def json_reply(content: str) -> dict[str, Any]:
    """The JSON object in a chat model's reply: bare, in a ``` fence, or amid prose."""
    text = content.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        if not m:
            raise ProviderError("the model's answer is not JSON") from None
        try:
            data = json.loads(m.group(0))
        except json.JSONDecodeError as e:
            raise ProviderError(f"the model's answer is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProviderError("the model's JSON is not an object")
    return data


def _parse_summary_json(content: str) -> tuple[str, list[str]]:
    data = json_reply(content)
    title = data.get("title")
    takeaways = data.get("takeaways", data.get("key_takeaways"))
    if not isinstance(title, str) or not title.strip():
        raise ProviderError("the model's JSON has no title")
    if isinstance(takeaways, str):
        takeaways = [takeaways]
    if not isinstance(takeaways, list) or not all(isinstance(t, str) for t in takeaways):
        raise ProviderError("the model's JSON has no list of takeaways")
    takeaways = [re.sub(r"\s+", " ", t).strip() for t in takeaways if t.strip()]
    if not takeaways:
        raise ProviderError("the model gave no takeaways")
    return re.sub(r"\s+", " ", title).strip()[:120], takeaways[:MAX_TAKEAWAYS]


class OpenAIProvider:
    """Any endpoint speaking OpenAI's chat-completions protocol (OpenAI, vLLM, Ollama, ...)."""

    name = "openai"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_settings(cls, s: Settings) -> OpenAIProvider | None:
        """The endpoint ``PODLENS_LLM_*`` configure; None unless both base URL and model are set."""
        if not s.llm_base_url or not s.llm_model:
            return None
        return cls(s.llm_base_url, s.llm_model, s.llm_api_key, s.llm_timeout)

    def summarize(self, quote: str, context: SnipContext | None = None) -> Summary:
        ctx = context or SnipContext()
        user = "\n".join(
            line
            for line in (
                f"Podcast: {ctx.podcast}" if ctx.podcast else "",
                f"Episode: {ctx.episode_title}" if ctx.episode_title else "",
                f"Chapter: {ctx.chapter}" if ctx.chapter else "",
                f"Speaker: {ctx.speaker}" if ctx.speaker else "",
                f"Quote:\n{quote}",
            )
            if line
        )
        title, takeaways = _parse_summary_json(self.chat(SYSTEM_PROMPT, user))
        return Summary(title, takeaways, provider=f"{self.name}:{self.model}")

    def chat(self, system: str, user: str) -> str:
        """The text of the endpoint's reply to ``system`` + ``user`` (JSON mode, temperature 0);
        ProviderError when it cannot be had.  Shared by snip titles and ``ask``'s answers."""
        payload = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = f"{self.base_url}/chat/completions"
        # One try, no pacing: a person is waiting, and the local provider is the fallback.
        http = HttpConfig(
            connect_timeout=self.timeout, read_timeout=self.timeout, retries=0, min_interval=0.0
        )
        try:
            with HttpClient(http) as client:
                r = client.request("POST", url, json=payload, headers=headers)
        except FetchError as e:
            raise ProviderError(f"cannot reach {url}: {e}") from e
        if r.status != 200:
            raise ProviderError(f"{url} answered HTTP {r.status}: {r.text[:200]}")
        try:
            content = r.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise ProviderError("the endpoint's answer is not a chat completion") from e
        if not isinstance(content, str):
            raise ProviderError("the chat completion has no text content")
        return content


class FallbackProvider:
    """Try ``primary``; on any failure use ``fallback`` and record why in ``fallback_reason``."""

    def __init__(self, primary: Provider, fallback: Provider) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}|{fallback.name}"

    def summarize(self, quote: str, context: SnipContext | None = None) -> Summary:
        try:
            return self.primary.summarize(quote, context)
        except (ProviderError, PodlensError) as e:
            reason = f"{self.primary.name} failed: {e}"
        summary = self.fallback.summarize(quote, context)
        summary.fallback_reason = reason
        return summary


def provider_from_env(embedder: Any = None) -> Provider:
    """The LLM (falling back to local) when ``PODLENS_LLM_BASE_URL`` and ``_MODEL`` are set."""
    local = LocalProvider(embedder)
    remote = OpenAIProvider.from_settings(settings())
    return FallbackProvider(remote, local) if remote else local
