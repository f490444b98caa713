"""Titles and takeaways: local (embedding model) and an OpenAI-compatible endpoint; highlights."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from index.embed import load_embedder
from ingest.pipeline import build_episode
from podlens.config import Settings
from podlens.errors import PodlensError
from podlens.sentences import episode_sentences
from snips.ai import (
    FallbackProvider,
    LocalProvider,
    OpenAIProvider,
    SnipContext,
    _claims,
    _question_from_clause,
    candidate_phrases,
    provider_from_env,
    tidy_sentence,
)
from snips.capture import create_snip
from snips.highlights import best_moments
from tests.conftest import EP19_FEED, EP19_MD
from tests.support.httpserver import Route
from tests.support.snips_data import make_episode


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def ep19():
    return build_episode(str(EP19_FEED), str(EP19_MD), episode=19)


def _optimizer_tap(episode) -> float:
    """A tap 20 s after Neel names AdamW (what the seed's snip captured)."""
    sents = episode_sentences(episode)
    adamw = next(s for s in sents if "AdamW" in s.text)
    return adamw.end + 20


def test_snip_at_the_optimizer_moment_of_episode_19_is_about_the_optimizer(ep19, embedder):
    snip = create_snip(ep19, _optimizer_tap(ep19), provider=LocalProvider(embedder))
    assert "AdamW" in snip.quote and snip.end - snip.start >= 50
    assert snip.speaker == "Neel Nanda" and snip.chapter == "The suddenness of grokking"
    assert 2 <= len(snip.title.split()) <= 10
    assert re.search(r"optimi[sz]er|adam", snip.title, re.I), snip.title
    assert 1 <= len(snip.takeaways) <= 3
    joined = " ".join(snip.takeaways).lower()
    assert "optimizer" in joined and ("weight decay" in joined or "adam" in joined), joined
    assert all(t[0].isupper() and ENDED.search(t) for t in snip.takeaways)
    assert snip.provider == "local"


ENDED = re.compile(r"[.!?…][\"'”’)\]]*$")  # a sentence's end, closing quotes included


def test_a_takeaway_cut_from_a_quotation_has_no_stray_quote_mark(ep19, embedder):
    """By 2:00:30 Neel has quoted an induction head ('it says, "Has this token appeared in the past?
    If yes, ... come next."'): a takeaway cut from inside the quotation neither keeps the
    quotation's unmatched mark nor gets a full stop after it (it read 'come next.".')."""
    snip = create_snip(ep19, 7230, provider=LocalProvider(embedder))
    assert any("come next" in t for t in snip.takeaways), snip.takeaways  # the quoted sentence
    for t in snip.takeaways:
        assert t.count('"') % 2 == 0 and not re.search(r"[\"”]\.$", t), t
        assert ENDED.search(t), t
    # A quoted question is still a question, and a takeaway is never one ("..., what would we
    # do then?"." was one at 3:48:00).
    later = create_snip(ep19, 13680, provider=LocalProvider(embedder))
    assert later.takeaways and not any(re.search(r"\?[\"'”’]*\.?$", t) for t in later.takeaways)
    assert tidy_sentence('If yes, it comes next."') == "If yes, it comes next."
    assert (
        tidy_sentence('I was like, "Oh, head 9 boosts it') == 'I was like, "Oh, head 9 boosts it."'
    )
    assert tidy_sentence('"Has this token appeared?') == "Has this token appeared?"
    assert tidy_sentence('He said "hello" twice') == 'He said "hello" twice.'
    assert tidy_sentence("It is “fine.”") == "It is “fine.”"


def test_a_speaker_announcing_a_definition_titles_the_moment_as_its_question(ep19, embedder):
    """ "I should explain what an induction head is before we jump into this" is the question a
    listener would file the minute under (it was titled by its keyphrase, "Induction Head")."""
    snip = create_snip(ep19, 7230, provider=LocalProvider(embedder))
    assert snip.title == "What Is an Induction Head?"
    assert _question_from_clause("let me explain what the residual stream is.") == (
        "What Is the Residual Stream?"
    )
    # Only the announcing shape: "what a big deal is about it" is no definition.
    assert _question_from_clause("I can explain what a big deal is about it") is None


def test_local_provider_is_deterministic_and_takeaways_do_not_repeat(embedder):
    quote = (
        "Induction heads are circuits that copy a token that followed an earlier copy of the "
        "current token. Induction heads copy the token that came after the previous occurrence. "
        "They form suddenly during training, in a phase change visible as a bump in the loss. "
        "This phase change coincides with a big jump in in-context learning ability."
    )
    p = LocalProvider(embedder)
    a, b = p.summarize(quote), p.summarize(quote)
    assert a == b
    assert "induction" in a.title.lower() or "heads" in a.title.lower(), a.title
    # The two near-identical first sentences are redundant: MMR keeps at most one of them.
    assert sum("copy" in t for t in a.takeaways) <= 1, a.takeaways


def _chat_route(content: str, status: int = 200) -> Route:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return Route(
        handler=lambda req: (status, json.dumps(body).encode()), content_type="application/json"
    )


def test_openai_compatible_provider_sends_chat_completion_and_parses_json(http_server):
    content = json.dumps({"title": "Why AdamW Matters", "takeaways": ["A.", "B.", "C.", "D."]})
    http_server.add("/v1/chat/completions", _chat_route(f"```json\n{content}\n```"))
    p = OpenAIProvider(http_server.url("/v1"), "tiny-model", api_key="k-123")
    s = p.summarize("a quote", SnipContext(episode_title="Ep", chapter="Ch", speaker="Neel"))
    assert (s.title, s.takeaways) == ("Why AdamW Matters", ["A.", "B.", "C."])
    assert s.provider == "openai:tiny-model" and s.fallback_reason is None
    req = http_server.requests[-1]
    assert req.headers["Authorization"] == "Bearer k-123"
    sent = req.json()
    assert sent["model"] == "tiny-model" and sent["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "a quote" in sent["messages"][1]["content"] and "Neel" in sent["messages"][1]["content"]


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (_chat_route("{}", status=500), "HTTP 500"),
        (_chat_route("Sure! Here is a title: Optimizers"), "not JSON"),
        (_chat_route(json.dumps({"title": "T", "takeaways": []})), "no takeaways"),
        (Route(body=b"<html>", content_type="text/html"), "not a chat completion"),
    ],
)
def test_llm_failures_fall_back_to_local_with_the_reason(
    http_server, embedder, monkeypatch, route, reason
):
    http_server.add("/v1/chat/completions", route)
    monkeypatch.setenv("PODLENS_LLM_BASE_URL", http_server.url("/v1"))
    monkeypatch.setenv("PODLENS_LLM_MODEL", "m")
    provider = provider_from_env(embedder)
    assert isinstance(provider, FallbackProvider)
    s = provider.summarize("AdamW uses weight decay in a principled way. Adam has momentum.")
    assert s.provider == "local" and reason in (s.fallback_reason or ""), s.fallback_reason
    assert s.title and s.takeaways


def test_unreachable_llm_falls_back_and_unset_env_means_local(embedder, monkeypatch):
    monkeypatch.delenv("PODLENS_LLM_BASE_URL", raising=False)
    assert isinstance(provider_from_env(embedder), LocalProvider)
    monkeypatch.setenv("PODLENS_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("PODLENS_LLM_MODEL", "m")
    s = provider_from_env(embedder).summarize("Weight decay shrinks the weights every step.")
    assert "cannot reach" in s.fallback_reason


def test_llm_settings_need_url_and_model_and_a_bad_timeout_is_a_one_line_error():
    env = {"PODLENS_LLM_BASE_URL": "http://127.0.0.1:9/v1/", "PODLENS_LLM_MODEL": "m"}
    p = OpenAIProvider.from_settings(Settings.from_env({**env, "PODLENS_LLM_TIMEOUT": "5"}))
    assert (p.base_url, p.model, p.api_key, p.timeout) == ("http://127.0.0.1:9/v1", "m", None, 5)
    assert OpenAIProvider.from_settings(Settings.from_env({"PODLENS_LLM_MODEL": "m"})) is None
    with pytest.raises(PodlensError, match=r"^PODLENS_LLM_TIMEOUT must be seconds > 0: 'soon'$"):
        Settings.from_env({**env, "PODLENS_LLM_TIMEOUT": "soon"})


def test_best_moments_prefer_dense_self_contained_passages_and_spread_over_chapters():
    filler = "Yeah. Right. Okay, sure. Mm-hm. I mean, yeah, kind of, you know."
    idea_a = (
        "Induction heads copy the token that followed an earlier occurrence of the current "
        "token. They form in a sudden phase change during training. That phase change explains "
        "most of the in-context learning we observe in small transformers."
    )
    idea_b = (
        "Grokking happens because weight decay slowly removes the memorising circuit. The "
        "generalising Fourier circuit was already forming underneath. Once memorisation is "
        "cleaned up, test loss suddenly falls."
    )
    ep = make_episode(
        [
            ("Host", "Heads", filler, 0, 30),
            ("Guest", "Heads", idea_a, 30, 90),
            ("Host", "Heads", filler, 90, 120),
            ("Host", "Grokking", filler, 120, 150),
            ("Guest", "Grokking", idea_b, 150, 210),
            ("Host", "Grokking", filler, 210, 240),
        ]
    )
    moments = best_moments(ep, n=2, target=40)
    assert [m.chapter for m in moments] == ["Heads", "Grokking"]
    assert "Induction heads" in moments[0].quote and "Grokking happens" in moments[1].quote
    assert all(m.speaker == "Guest" for m in moments)
    assert moments[0].end <= moments[1].start


def test_best_moments_of_episode_19_are_spread_and_do_not_overlap(ep19):
    moments = best_moments(ep19, n=5)
    assert len(moments) == 5
    assert len({m.chapter for m in moments}) == 5
    assert all(a.end <= b.start for a, b in itertools.pairwise(moments))
    assert all(20 <= m.end - m.start <= 90 for m in moments)


# -- titles that state the idea -----------------------------------------------------------------


def test_title_claims_drop_the_framing_and_keep_only_clauses_that_say_something():
    framed = (
        "But I think the way transformers seem to work in practice is that every layer is "
        "incrementally updating the central residual stream."
    )
    assert _claims(tidy_sentence(framed)) == [
        "Every Layer Is Incrementally Updating the Central Residual Stream"
    ]
    # No verb, or a participle phrase: a fragment, not a claim.
    assert _claims("We found this in every transformer, up to about 13 billion parameters.") == []
    assert _claims("It is transitioning, while preserving train loss on the held-out data.") == []
    # A long claim keeps its head: before a relative clause, or the first of two joined claims.
    assert _claims(
        "Turns out that induction heads are an interesting non-trivial circuit that occur in "
        "all model scales."
    ) == ["Induction Heads Are an Interesting Non-trivial Circuit"]


def test_a_clause_leaning_on_another_or_missing_its_subject_is_never_a_title(ep19, embedder):
    # A concession or condition leans on a main clause it lacks; a clause that opens on its
    # verb lost its subject to a lead-in ("my guess is that that was ...").
    assert _claims("Though argument 6 is cheating, to be fair.") == []
    assert _claims("Even if the model was outputting seemingly random gibberish.") == []
    assert _claims("And my guess is that that was a result of dropout.") == []
    assert _claims("Once you're robust to the noise, the model cleans up its memorization.") == [
        "The Model Cleans Up Its Memorization"
    ]
    # Cut down to six words, a claim that ends on a pronoun or "if" lost what it was about
    # (episode 19 at 2:04:30 was titled "The Induction Head Didn't Do Amazingly If You").
    said = (
        "So what Redwood found was that even in a two layer attention only model, the induction "
        "head didn't actually do amazingly if you literally only let it use strict induction."
    )
    assert _claims(tidy_sentence(said)) == []
    assert _claims("The induction head didn't actually do amazingly if you only use it.") == []
    assert _claims("K composition is when you're using it on the source.") == []
    # Episode 19 at 22:30 was titled "Is Worse Than Scaling Laws".
    title = create_snip(ep19, 1350, provider=LocalProvider(embedder)).title
    assert not re.match(r"(?:Is|Are|Was|Were|Though|Even|Once|After) ", title), title


def test_a_clause_cut_after_its_subject_or_before_its_point_is_never_a_title():
    # Episode 19 at 36:00 was titled "Realizes This Is the Eiffel Tower", at 1:24:00 "Track
    # Progress Towards the Eventual Emergent Phenomena", at 2:27:00 "Wants to Have Different
    # Attention Patterns": the subject stayed in the clause before the cut.
    said = "It then realizes this is the Eiffel Tower and looks up the fact that it's in Paris."
    assert _claims(said) == []
    assert (
        _claims("Some metrics which track progress towards the eventual emergent phenomena.") == []
    )
    assert _claims(
        "The model wants to do induction, wants to have different attention patterns."
    ) == ["The Model Wants to Do Induction"]
    # ... which a subject followed by its verb, an adverb or a preposition does not look like.
    assert _claims("Scale matters a lot for these models.") == [
        "Scale Matters a Lot for These Models"
    ]
    assert _claims("Maybe the memorization is also using those directions.") == [
        "Maybe the Memorization Is Also Using Those Directions"
    ]
    # At 1:00:00 "Confirmatory Techniques Are Things": where what they are was about to be said.
    assert _claims("Confirmatory techniques are things where you already have a hypothesis.") == []
    assert _claims("Induction is such an important thing for models.") == [
        "Induction Is Such an Important Thing for Models"
    ]


def test_a_keyphrase_never_ends_on_a_past_tense_verb(ep19, embedder):
    # Episode 19 at 2:08:05 was titled "Strict Induction Heads and Redwood Studied".
    phrases = candidate_phrases("The models Redwood studied had strict induction heads.")
    assert "redwood studied" not in phrases and "studied" not in phrases
    assert "strict induction heads" in phrases and "redwood" in phrases
    assert "trained model" in candidate_phrases("A trained model memorized.")  # "-ed" before a noun
    # At 1:21:00, "Progress Measures Based and Grok Modular Addition".
    based = candidate_phrases("We design progress measures based on this understanding.")
    assert "progress measures" in based and "progress measures based" not in based
    # ... nor starts on one: at 34:30, "Transformers and Divide Cognition".
    divide = candidate_phrases("It's not obvious that you can divide cognition into sensory bits.")
    assert "cognition" in divide and "divide cognition" not in divide and "divide" not in divide
    assert "induction heads" in candidate_phrases("Then they form induction heads.")
    title = create_snip(ep19, 7685, provider=LocalProvider(embedder)).title
    assert "Studied" not in title, title


def test_a_question_ending_on_this_names_what_it_asks_about(ep19, embedder):
    """Daniel asks whether mechanistic interpretability can be automated: "Can we somehow
    automate this?" becomes a title that says what "this" is."""
    snip = create_snip(ep19, 3309, provider=LocalProvider(embedder))
    assert "automate this" in snip.quote.lower()
    assert snip.title == "Can We Somehow Automate Mechanistic Interpretability?", snip.title


def test_a_moment_that_states_an_idea_is_titled_by_it_not_by_keyphrases(ep19, embedder):
    snip = create_snip(ep19, 1838, provider=LocalProvider(embedder))
    assert "incrementally updating the central residual stream" in snip.quote
    assert re.fullmatch(r"Every Layer Is .*Residual Stream", snip.title), snip.title
