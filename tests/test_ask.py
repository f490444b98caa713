"""Ask the episode: short answers from what was said, every claim cited to a playable moment."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from ask.__main__ import main
from ask.answer import NOT_DISCUSSED, Asker, to_citation
from ask.llm import LLMAnswerer
from index.search import Searcher, SearchResult
from index.store import IndexStore
from podlens.links import deep_link
from podlens.sentences import episode_sentences
from podlens.text import speaker_words, without_speakers
from snips.ai import OpenAIProvider
from tests.conftest import REPO
from tests.support.httpserver import Route
from ui.render import md_text

ANSWERABLE = "Why is the James Bond example not a great use case for induction?"
OFF_TOPIC = "What is the local learning coefficient in singular learning theory?"
REQUIRED = {"question", "answer", "abstained", "citations"}
CITATION_FIELDS = {"episode", "start", "end", "speaker", "text", "link"}


@pytest.fixture(scope="module")
def asker(app_data_dir) -> Asker:
    return Asker(searcher=Searcher(app_data_dir))


@pytest.fixture(scope="module")
def stream(app_data_dir):
    ep = IndexStore(app_data_dir).load_episode("axrp-19")
    return episode_sentences(ep)


def _runs_in_stream(cite: dict, stream) -> bool:
    """The citation is a run of whole stream sentences: same text, start, end and speaker."""
    for i, s in enumerate(stream):
        if s.start != cite["start"] or not cite["text"].startswith(s.text):
            continue
        run = [s]
        while len(" ".join(x.text for x in run)) < len(cite["text"]):
            run.append(stream[i + len(run)])
        if " ".join(x.text for x in run) == cite["text"]:
            return run[-1].end == cite["end"] and s.speaker == cite["speaker"]
    return False


def _json_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_cli_answers_in_a_few_cited_sentences_said_verbatim_at_their_time(
    app_data_dir, stream, capsys
):
    rc = main([ANSWERABLE, "--json", "--episode", "axrp-19", "--data-dir", str(app_data_dir)])
    assert rc == 0
    [out] = _json_lines(capsys)
    assert set(out) >= REQUIRED and out["question"] == ANSWERABLE
    assert out["abstained"] is False and 1 <= len(out["citations"]) <= 3
    plain = re.sub(r"\s*\[\d+\]", "", out["answer"])
    assert len(plain.split()) <= 130
    for n, c in enumerate(out["citations"], 1):
        assert set(c) >= CITATION_FIELDS and c["episode"] == "axrp-19"
        assert _runs_in_stream(c, stream), c
        assert c["link"] == deep_link("axrp-19", c["start"])
        assert f"{c['text']} [{n}]" in out["answer"]  # every sentence is its citation's words
    assert any("James Bond" in c["text"] for c in out["citations"])


def test_cli_abstains_on_an_off_topic_question_and_offers_the_closest_mentions(
    app_data_dir, stream, capsys
):
    assert main([OFF_TOPIC, "--json", "--data-dir", str(app_data_dir)]) == 0
    [out] = _json_lines(capsys)
    assert out["abstained"] is True and out["answer"] == NOT_DISCUSSED
    assert out["citations"] == []
    assert out["closest"] and all(_runs_in_stream(c, stream) for c in out["closest"])


def test_queries_file_prints_one_json_object_per_question(app_data_dir, tmp_path, capsys):
    f = tmp_path / "qs.txt"
    f.write_text(f"{ANSWERABLE}\n\n# a comment\n" + json.dumps({"question": OFF_TOPIC}) + "\n")
    assert main(["--queries-file", str(f), "--json", "--data-dir", str(app_data_dir)]) == 0
    outs = _json_lines(capsys)
    assert [o["question"] for o in outs] == [ANSWERABLE, OFF_TOPIC]
    assert [o["abstained"] for o in outs] == [False, True]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a QUESTION or --queries-file"),
        (["   ", "--episode", "axrp-19"], "the question is empty"),
        (["why?", "--episode", "axrp-99"], "no episode 'axrp-99'"),
        (["--queries-file", "/nonexistent/qs.txt"], "cannot read queries file"),
    ],
)
def test_bad_input_is_a_one_line_error_and_exit_2(app_data_dir, capsys, argv, message):
    rc = main([*argv, "--data-dir", str(app_data_dir)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1, err


def test_sentences_are_scored_from_vectors_stored_at_ingest_not_embedded_per_question(
    app_data_dir, monkeypatch
):
    import ask.answer as answer_mod

    stored = Asker(searcher=Searcher(app_data_dir))
    want = stored.ask(ANSWERABLE, "axrp-19")
    assert stored._text("axrp-19").vectors is not None
    embedded: list[int] = []
    real = answer_mod.embed_texts
    monkeypatch.setattr(
        answer_mod, "embed_texts", lambda m, texts: embedded.append(len(texts)) or real(m, texts)
    )
    stored._vectors.clear()
    assert stored.ask(ANSWERABLE, "axrp-19").to_dict() == want.to_dict()
    assert embedded == [1]  # the question only
    # Without them (an index from before, or another splitter) each sentence is embedded: same
    # answer.
    fresh = Asker(searcher=stored.searcher)
    fresh._text("axrp-19").vectors = None
    got = fresh.ask(ANSWERABLE, "axrp-19")
    assert got.answer == want.answer and max(embedded[1:]) > 20


def test_episode_number_resolves_to_its_id(asker):
    assert asker.resolve_episode("19") == "axrp-19"


# -- the LLM: it may only cite what it was given ------------------------------------------------

_NUMBERED = re.compile(r"^\[(\d+)\] \([^)]*\) (.*)$", re.M)


def _given(req) -> dict[int, str]:
    """The numbered sentences the LLM was sent."""
    user = req.json()["messages"][1]["content"]
    return {int(n): text for n, text in _NUMBERED.findall(user)}


def _llm(http_server, reply) -> LLMAnswerer:
    def handler(req):
        content = json.dumps(reply(_given(req)))
        body = {"choices": [{"message": {"role": "assistant", "content": content}}]}
        return 200, json.dumps(body).encode()

    http_server.add("/v1/chat/completions", Route(handler=handler, content_type="application/json"))
    return LLMAnswerer(OpenAIProvider(http_server.url("/v1"), "stub"))


def _bond_id(given: dict[int, str]) -> int:
    return next(n for n, t in given.items() if "James Bond" in t)


def test_honest_llm_answer_is_shown_with_the_stream_sentences_it_cites(asker, stream, http_server):
    def honest(given):
        n = _bond_id(given)
        quote = " ".join(given[n].split()[:6])
        return {
            "not_discussed": False,
            "sentences": [
                {
                    "text": "The James Bond example is a poor fit for induction.",
                    "citations": [{"id": n, "quote": quote}],
                }
            ],
        }

    a = asker.ask(ANSWERABLE, llm=_llm(http_server, honest))
    assert a.provider == "openai:stub" and a.reason is None and not a.abstained
    assert a.answer == "The James Bond example is a poor fit for induction. [1]"
    [c] = a.citations
    assert "James Bond" in c.text and _runs_in_stream(c.to_dict(), stream)
    sent = http_server.requests[-1].json()
    assert sent["model"] == "stub" and ANSWERABLE in sent["messages"][1]["content"]


@pytest.mark.parametrize(
    ("lie", "reason"),
    [
        (lambda g: [{"id": max(g) + 7, "quote": "anything"}], "which it was not given"),
        (
            lambda g: [{"id": _bond_id(g), "quote": "induction heads were invented in 1997"}],
            "quotes words that are not in",
        ),
        (lambda g: [], "cites nothing"),
    ],
)
def test_lying_llm_answer_is_rejected_and_the_extractive_answer_shown_with_why(
    asker, http_server, lie, reason
):
    def liar(given):
        return {"sentences": [{"text": "Bond is a great example.", "citations": lie(given)}]}

    a = asker.ask(ANSWERABLE, llm=_llm(http_server, liar))
    extractive = asker.ask(ANSWERABLE, llm=None)
    assert a.provider == "local" and reason in (a.reason or ""), a.reason
    assert "answer rejected" in a.reason
    assert a.answer == extractive.answer and "Bond is a great" not in a.answer


def test_unreachable_llm_falls_back_to_the_extractive_answer(asker):
    dead = LLMAnswerer(OpenAIProvider("http://127.0.0.1:9/v1", "m", timeout=2))
    a = asker.ask(ANSWERABLE, llm=dead)
    assert a.provider == "local" and "cannot reach" in a.reason and not a.abstained


# -- the app: the answer first, chips that play the moment --------------------------------------


def _app(monkeypatch, data_dir, **params) -> AppTest:
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PODLENS_LLM_BASE_URL", raising=False)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def test_search_page_answers_first_and_a_citation_chip_plays_its_moment(
    monkeypatch, app_data_dir, asker
):
    expected = asker.ask(ANSWERABLE)
    at = _app(monkeypatch, app_data_dir, q=ANSWERABLE)
    at.run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    answer_at = next(i for i, t in enumerate(texts) if "**\\[1\\]**" in t)
    card_at = next(i for i, t in enumerate(texts) if "Episode]" in t)
    assert answer_at < card_at  # the answer above the moments
    assert "James Bond" in texts[answer_at]
    first = expected.citations[0]
    chip = at.button(key="pl_cite_1")
    assert chip.label.startswith("1 · ")
    chip.click().run()
    assert not at.exception
    assert at.query_params["episode"] == "axrp-19"
    assert at.query_params["t"] == str(int(first.start))
    assert at.query_params["q"] == ANSWERABLE  # the question and its answer stay


def test_search_page_says_not_discussed_with_closest_mentions(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, q=OFF_TOPIC)
    at.run()
    assert not at.exception
    assert any(md_text(NOT_DISCUSSED) in m.value for m in at.markdown)  # escaped for Markdown
    assert at.button(key="pl_close_1").label.startswith("1 · ")


def test_a_paper_passage_is_cited_in_its_words_linking_to_where_the_episode_brings_it_up(asker):
    ep = asker.searcher.store.load_episode("axrp-19")
    ref = next(r for r in ep.references if any(m.start is not None for m in r.mentions))
    first = min(m.start for m in ref.mentions if m.start is not None)
    text = "Grokking is delayed generalization. The network first memorizes its training data."
    r = SearchResult(
        "axrp-19",
        ep.title,
        "paper",
        None,
        None,
        None,
        "Abstract",
        text,
        1.0,
        "",
        title=ref.title,
        url=ref.url,
    )
    cands = asker.sentences_of(r, asker._text("axrp-19"), 0)
    assert [c.text for c in cands] == [
        "Grokking is delayed generalization.",
        "The network first memorizes its training data.",
    ]
    cite = to_citation(1, cands[:1]).to_dict()
    assert (cite["kind"], cite["url"], cite["title"]) == ("paper", ref.url, ref.title)
    assert cite["start"] == round(first, 2) and cite["link"] == deep_link("axrp-19", first)


def test_follow_up_questions_keep_the_episode_of_the_answer_as_context(monkeypatch, app_data_dir):
    """After an answer from axrp-19, the next question is asked in axrp-19 (session state
    ``pl_ask_episode``), and an abstention does not drop that context."""
    import ask.answer as answer_mod
    from ui.ask import CONTEXT_KEY

    asked: list[tuple[str, str | None]] = []
    real = answer_mod.Asker.ask

    def spy(self, question, episode=None, **kw):
        asked.append((question, episode))
        return real(self, question, episode, **kw)

    monkeypatch.setattr(answer_mod.Asker, "ask", spy)
    at = _app(monkeypatch, app_data_dir, q=ANSWERABLE)
    at.run()
    assert not at.exception
    assert asked == [(ANSWERABLE, None)]  # the first question: everywhere
    assert at.session_state[CONTEXT_KEY] == "axrp-19"

    follow_up = "What does an anti-induction head do?"
    at.text_input(key="pl_q").input(follow_up)
    next(b for b in at.button if b.label == "Search").click().run()
    assert not at.exception
    assert at.query_params["q"] == follow_up
    assert asked[-1] == (follow_up, "axrp-19")  # asked in the answer's episode
    assert any("**\\[1\\]**" in m.value for m in at.markdown)  # and answered there

    at.text_input(key="pl_q").input(OFF_TOPIC)
    next(b for b in at.button if b.label == "Search").click().run()
    assert asked[-1] == (OFF_TOPIC, "axrp-19")
    assert any(md_text(NOT_DISCUSSED) in m.value for m in at.markdown)
    assert at.session_state[CONTEXT_KEY] == "axrp-19"  # not discussed: the context stays


def test_a_sentence_alone_between_two_chosen_ones_of_a_turn_joins_them_into_one_citation(
    asker, stream
):
    from ask.answer import _stream_candidate, group_runs

    et = asker._text("axrp-19")
    i = next(
        i
        for i in range(len(stream) - 3)
        if stream[i].turn == stream[i + 1].turn == stream[i + 2].turn != stream[i + 3].turn
    )
    chosen = [_stream_candidate("axrp-19", et, i), _stream_candidate("axrp-19", et, i + 2)]
    [gap] = asker.gaps(chosen, budget=200)
    assert gap.index == i + 1 and gap.text == stream[i + 1].text
    assert gap.link == deep_link("axrp-19", stream[i + 1].start)
    [run] = group_runs([*chosen, gap])
    assert to_citation(1, run).text == " ".join(s.text for s in stream[i : i + 3])
    # The word budget holds, and a gap is never filled across a change of speaker.
    assert asker.gaps(chosen, budget=len(stream[i + 1].text.split()) - 1) == []
    across = [_stream_candidate("axrp-19", et, i + 1), _stream_candidate("axrp-19", et, i + 3)]
    assert asker.gaps(across, budget=200) == []


def test_a_question_naming_the_guest_is_answered_by_what_he_said_not_by_his_introduction(asker):
    # "Neel" matches the host's introduction of the guest ("After graduating from Cambridge,
    # Neel did ..."), which then led this answer; the name says who, not what.
    a = asker.ask("What does Neel see as the biggest gap in our understanding of transformers?")
    assert not a.abstained
    said = " ".join(c.text for c in a.citations)
    assert "what is up with the MLP layers" in said
    assert "After graduating from Cambridge" not in said
    assert all(c.start > 60 for c in a.citations)  # nothing from the introduction


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does Neel think of SoLU?", "What does think of SoLU?"),
        ("Why did Neel Nanda's grokking model use AdamW?", "Why did grokking model use AdamW?"),
        ("Who is Neel Nanda?", "Who is Neel Nanda?"),  # nothing would be left to ask about
        ("What does Chris Olah think of SoLU?", "What does Chris Olah think of SoLU?"),
    ],
)
def test_the_speakers_names_are_taken_out_of_a_question_unless_nothing_is_left(question, expected):
    names = speaker_words(["Neel Nanda", "Daniel Filan"])
    assert names == {"neel", "nanda", "daniel", "filan"}
    assert without_speakers(question, names) == expected


def test_the_answer_opens_with_the_moment_that_answers_best(asker):
    # The reply's verdict ("we're just much better at ...") came second in time order, after an
    # earlier, looser sentence; moments are cited best first, each in its own time order.
    a = asker.ask(
        "Is mechanistic interpretability currently better at understanding attention heads "
        "or neurons?"
    )
    assert len(a.citations) >= 2
    assert "much better at interpreting the cognition around attention heads" in a.citations[0].text
    assert a.answer.startswith(a.citations[0].text + " [1]")
    starts = [c.start for c in a.citations]
    assert starts != sorted(starts)  # not simply the order they were said in


def test_the_hosts_setup_of_a_question_is_not_taken_for_its_answer(asker):
    # The host's long setup ("... How scary is it that we're forgetting this key low-rank
    # structure?") paraphrases the listener's question better than the guest's reply does; a
    # turn that ends by asking the next speaker is where the question is, not the answer.
    a = asker.ask(
        "Is it a problem that multiplying out the embedding and unembedding forgets their "
        "low-rank structure?"
    )
    assert not a.abstained
    assert any("my guess is it's not that big a deal" in c.text for c in a.citations)
    assert all(c.speaker == "Neel Nanda" for c in a.citations)


def test_what_is_x_is_answered_by_the_sentence_that_defines_x(asker):
    a = asker.ask("What is superposition?")
    assert not a.abstained
    assert "called superposition, which you can essentially think of" in a.citations[0].text
    a = asker.ask("What is the logit lens?")
    assert "called the logit lens where you just cut off the last several layers" in (
        a.citations[0].text
    )


def test_what_is_x_asked_in_the_interview_is_answered_by_the_reply(asker):
    # The host asks "So what is this mechanistic interpretability thing?"; the answer was
    # "'mechanistic interpretability' is a mouthful", "... has a really unique vibe ...".
    a = asker.ask("What is mechanistic interpretability?")
    assert not a.abstained
    first = a.citations[0]
    assert first.speaker == "Neel Nanda" and 60 < first.start < 75
    assert "reverse engineering a compiled program binary to its source code" in first.text
    assert "mouthful" not in a.answer
    assert not a.answer.startswith("Sure.")  # the reply's opening word answers nothing


def test_a_short_sentence_broken_off_is_no_part_of_an_answer(asker):
    # "How do induction heads form?" ended "... the other one being there. Induction heads in
    # natural language... [3]": five words that trail off say nothing.
    a = asker.ask("How do induction heads form?")
    assert not a.abstained
    assert "form induction heads with a sharp phase change" in a.citations[0].text
    assert "Induction heads in natural language..." not in a.answer
