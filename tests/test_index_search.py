"""Search on the real episode 19 index: known answers, the CLI's JSON contract, eval output."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.evaluate import hit_offset, normalize_words
from index.search import (
    HybridIndex,
    SearchConfig,
    Searcher,
    definition_asked,
    definition_of,
    longest_run,
    phrase_words,
    tokenize,
)

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "tests" / "eval" / "axrp19.jsonl"
FIELDS = {
    "episode",
    "episode_title",
    "kind",
    "start",
    "end",
    "speaker",
    "chapter",
    "text",
    "score",
    "link",
}
TRANSCRIPT_FIELDS = FIELDS | {"passage_start", "answer", "answer_start", "turns"}
QUOTE = "there's just something weird about the optimizer we're using"


def run_cli(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "index", *args]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def searcher(ep19_data_dir: Path) -> Searcher:
    return Searcher(ep19_data_dir)


def test_tokenizer_keeps_technical_terms_whole():
    assert "adamw" in tokenize("We used AdamW here")
    assert "s4" in tokenize("the S4 paper")
    assert "solu" in tokenize("SoLU activations")
    assert {"gpt", "2", "gpt2"} <= set(tokenize("GPT-2 Small"))


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Which optimizer did the grokking experiments use?", "we're using AdamW"),
        ("why does the S4 paper worry him", "recent paper called S4"),
        ("what's Neel's twitter handle", "NeelNanda5"),
        ("which modulus did he use for modular addition", "mod 113"),
        ("how do you spot induction heads in an attention heat map", "diagonal stripe"),
    ],
)
def test_search_finds_known_answers_in_episode_19(searcher: Searcher, question, answer):
    results = searcher.search(question, k=5)
    assert any(hit_offset(r.text, answer) is not None for r in results), [
        r.text[:80] for r in results
    ]


def test_results_are_distinct_moments_with_deep_links(searcher: Searcher):
    results = searcher.search("how does an induction head work", k=5)
    assert len(results) == 5
    for r in results:
        d = r.to_dict()
        assert set(d) == TRANSCRIPT_FIELDS
        assert d["episode"] == "axrp-19" and d["kind"] == "transcript"
        assert d["link"] == f"/?episode=axrp-19&t={int(r.start)}"
        assert 0 <= d["start"] < d["end"] and len(r.text.split()) <= 250
    # never two results that are mostly the same minute: distinct starts, distinct emphasised
    # sentences, and no pair shares more than 40% of the shorter one's words
    assert len({r.word_start for r in results}) == 5
    assert len({(r.answer, r.answer_start) for r in results}) == 5
    for a, b in itertools.combinations(results, 2):
        assert _shared(a, b) <= 0.4


def _shared(a, b) -> float:
    """The share of the shorter result's words that the two results have in common."""
    overlap = min(a.word_end, b.word_end) - max(a.word_start, b.word_start)
    return overlap / min(a.word_end - a.word_start, b.word_end - b.word_start)


def test_ask_reads_overlapping_evidence_where_listeners_get_distinct_moments(searcher: Searcher):
    """``distinct=False`` (what ask reads) keeps a neighbouring passage that the listener's
    list drops as the same minute: more sentences around the answer to cite."""
    q = "which modulus did he use for modular addition"
    shown = searcher.search(q, k=6)
    evidence = searcher.search(q, k=6, distinct=False)
    assert len({(r.answer, r.answer_start) for r in shown}) == len(shown)
    assert any(_shared(a, b) > 0.4 for a, b in itertools.combinations(evidence, 2))
    assert not any(_shared(a, b) > 0.4 for a, b in itertools.combinations(shown, 2))


def test_a_verbatim_quote_ranks_the_passage_that_says_it_first(searcher: Searcher):
    """The passage after the quote (3:15:30) carries it as retrieval context only; exact wording
    in what is heard wins, and the result lands on the quoted sentence itself (3:14:28, inside
    the passage that starts at 3:14:17)."""
    first = searcher.search(QUOTE, k=5)[0]
    assert hit_offset(first.text, QUOTE) == 3, first.text[:120]  # "So hypothesis two, <quote>"
    assert hit_offset(first.answer, QUOTE) is not None, first.answer
    assert 3 * 3600 + 14 * 60 <= first.passage_start <= first.start < 3 * 3600 + 15 * 60


def test_what_is_x_ranks_where_x_is_defined_first_and_emphasises_the_definition(
    searcher: Searcher,
):
    # Passages that merely use a term ranked above the one that explains it ("What is
    # grokking?" had the definition 3rd, "What is an induction head?" 10th).
    for question, definition in [
        ("What is grokking?", "grokking is this"),
        ("What is superposition?", "called superposition, which"),
        ("What is K composition?", "K composition is when"),
    ]:
        first = searcher.search(question, k=5)[0]
        assert definition.lower() in first.answer.lower().replace("'", ""), (question, first)
    heads = searcher.search("What is an induction head?", k=5)
    assert any("an induction head is this circuit" in r.text for r in heads[:3])
    # Only "What is X?" with a short X, and X itself, not a longer term ending in it.
    pattern = definition_of("What are induction heads?")
    assert pattern.search("So an induction head is this circuit that appears in two layer")
    assert not pattern.search("An anti-induction head is a head which has the induction pattern")
    assert not pattern.search("In my opinion, induction heads are actually a deep mechanism")
    assert definition_of("What is a head that looks like induction but pushes it down?") is None
    assert definition_of("Why is grokking sudden?") is None
    assert definition_of("What is this?") is None and definition_of("what's that") is None
    # Asked other ways, the same term is looked for.
    for asked in [
        "What does K composition mean?",
        "Define K composition",
        "explain K composition.",
    ]:
        assert (
            searcher.search(asked, k=1)[0].answer
            == "K composition is when you're using it on the source."
        )
    assert definition_of("Explain how induction heads form") is None
    assert definition_of("What does he mean?") is None
    # The speaker's own "When I say X, what I mean is": "What is a circuit?" landed on "formed
    # what I'll call the 'memorizing' circuit, which just didn't ..." (2:55:27).
    circuit = searcher.search("What is a circuit?", k=1)[0]
    assert circuit.answer.startswith("When I say circuit, what I mean is some subpart")
    assert definition_of("What is a prior?").search("By prior, I mean the distribution")


def test_what_is_x_asked_in_the_interview_ranks_the_reply_first_from_the_question(
    searcher: Searcher,
):
    # "What is mechanistic interpretability?" put "'mechanistic interpretability' is a
    # mouthful" first; the host asks it outright and Neel's reply explains it.
    first = searcher.search("What is mechanistic interpretability?", k=5)[0]
    assert first.text.startswith("So what is this mechanistic interpretability thing?")
    assert first.turns[0].speaker == "Daniel Filan" and first.turns[1].speaker == "Neel Nanda"
    assert "reverse engineering a compiled program binary" in first.text
    assert first.answer in first.turns[1].text  # the reply answers, not the question
    asked = definition_asked("What is mechanistic interpretability?")
    assert asked.search("So what is this mechanistic interpretability thing?")
    assert asked.search("Sorry, what does mechanistic interpretability mean?")
    assert not asked.search("What is mechanistic interpretability useful for?")
    # ... or names it first: "... talking about X. First of all, what is that?"
    that = definition_asked("What are program equilibria?")
    assert that.search('These use the terms "program equilibria". What does that mean?')
    assert that.search("We'll talk about program equilibria. First of all, what is that?")
    assert not that.search("Program equilibria are neat. What's that got to do with it?")
    assert not that.search("What does that mean for program equilibria?")
    # A speaker's own list of open questions answers none of them.
    listed = searcher.search("What is superposition?", k=5)[0]
    assert not listed.text.startswith("What is superposition? What do they even mean?")


def test_a_result_lands_on_its_answering_sentence_and_reads_as_speaker_turns(
    searcher: Searcher,
):
    """``start``/``text`` begin at a sentence inside the passage (at or after ``passage_start``);
    ``answer`` is one sentence of the text; ``turns`` are the text, by speaker, in order."""
    landing = Searcher(
        searcher.store.data_dir, model=searcher.model, config=SearchConfig(land=True)
    )
    results = landing.search("which modulus did he use for modular addition", k=5)
    landed = 0
    for r in results:
        assert r.passage_start is not None and r.passage_start <= r.start
        landed += r.start > r.passage_start
        assert r.answer and r.answer in r.text
        assert "\n".join(t.text for t in r.turns) == r.text
        assert r.turns[0].speaker == r.speaker and r.turns[0].start == r.start
        assert all(t.speaker for t in r.turns)
        assert all(a.start <= b.start for a, b in itertools.pairwise(r.turns))
        d = r.to_dict()
        assert d["turns"][0] == {
            "speaker": r.speaker,
            "start": round(r.start, 1),
            "text": r.turns[0].text,
        }
    assert landed >= 1  # some result starts past its passage's first sentence


def test_the_emphasised_sentence_is_the_one_that_answers_never_a_filler(searcher: Searcher):
    """``answer`` (what the card emphasises) is a sentence of five or more words from the
    passage's best-matching group that shares the query's terms: over the dev questions it
    holds most of the answer phrase for a good share of the hits, and never is "Yeah." or
    "Gotcha." (taking each passage's first sentence emphasised a filler in 21% of results and
    the answer in 10% of hits)."""
    from index.evaluate import emphasis_holds, load_eval

    items = load_eval(EVAL, split="dev")
    hits = holds = 0
    for it in items:
        results = searcher.search(it.question, k=5, kinds=("transcript",))
        for r in results:
            assert r.answer in r.text and len(r.answer.split()) >= 5, r.answer
        hit = next((r for r in results if hit_offset(r.text, it.answer) is not None), None)
        if hit is None:
            continue
        hits += 1
        holds += emphasis_holds(hit.answer, it.answer)
    assert hits >= 30
    assert holds / hits >= 0.35, (holds, hits)


def test_longest_run_counts_consecutive_query_words_in_order():
    hay = " " + " ".join(phrase_words("So there's just something weird about it, really.")) + " "
    assert longest_run(phrase_words(QUOTE), hay) == 6  # "there s just something weird about"
    assert longest_run(phrase_words("weird something"), hay) == 1
    assert longest_run([], hay) == 0


def test_embedding_precision_is_a_setting_and_bf16_vectors_match_float32(monkeypatch):
    """PODLENS_EMBED_PRECISION picks bfloat16 or float32 matmuls for the embedding model (auto:
    bfloat16 where the CPU does it natively); either way the vectors are unit-length float32 and
    the same to a cosine of ~1, so an index built one way serves queries embedded the other."""
    from index.embed import embed_texts, load_embedder, use_bf16
    from podlens.errors import PodlensError

    model = load_embedder()
    texts = ["an induction head attends to the token after an earlier copy", "weight decay"]
    vecs = {}
    for precision in ("fp32", "bf16"):
        monkeypatch.setenv("PODLENS_EMBED_PRECISION", precision)
        assert use_bf16() is (precision == "bf16")
        vecs[precision] = embed_texts(model, texts)
        assert vecs[precision].dtype == np.float32
        assert np.allclose(np.linalg.norm(vecs[precision], axis=1), 1.0, atol=1e-5)
    assert (vecs["fp32"] * vecs["bf16"]).sum(axis=1).min() > 0.999
    monkeypatch.setenv("PODLENS_EMBED_PRECISION", "half")
    with pytest.raises(PodlensError, match=r"^PODLENS_EMBED_PRECISION must be auto, bf16 or fp32"):
        use_bf16()


def test_exact_wording_outranks_fusion_only_for_text_that_is_heard():
    """A passage that has the quote only in its retrieval context (``embed_text``) loses to the
    one whose heard text says it; short queries are left to fusion."""
    from index.embed import embed_texts, load_embedder

    model = load_embedder()
    quote = "the optimizer we are using is really weird"
    says = _passage("transcript", 0, f"Well, I think {quote}. Anyway, that aside.")
    after = _passage("transcript", 1, "Optimizer optimizer weird weird using optimizers.")
    after.embed_text = f"{quote}. {after.text}"
    other = _passage("transcript", 2, "The weather was nice and we went for a walk.")
    passages = [after, other, says]
    vecs = embed_texts(model, [p.embed_text for p in passages])
    top = _in_memory(passages, vecs, model).moments(quote, k=3)
    assert top[0].text == says.text
    off = _in_memory(passages, vecs, model, SearchConfig(phrase_min_words=0)).moments(quote, k=3)
    assert off[0].text == after.text  # what fusion alone does: the reason for the rule


def test_cli_search_json_contract(ep19_data_dir: Path):
    p = run_cli("search", "What is superposition?", "-k", "3", "--json", data_dir=ep19_data_dir)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert isinstance(out, list) and len(out) == 3
    assert all(set(r) == TRANSCRIPT_FIELDS for r in out)
    assert out[0]["episode_title"].startswith("19 - Mechanistic Interpretability")


def test_cli_queries_file_prints_one_array_per_line(ep19_data_dir: Path, tmp_path: Path):
    qf = tmp_path / "q.txt"
    qf.write_text("What is grokking?\nwho edits the show\n\nWhat is the logit lens?\n")
    p = run_cli("search", "--queries-file", str(qf), "-k", "2", "--json", data_dir=ep19_data_dir)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().split("\n")
    assert len(lines) == 4
    arrays = [json.loads(x) for x in lines]
    assert [len(a) for a in arrays] == [2, 2, 0, 2]
    assert any("Jack Garrett" in r["text"] for r in arrays[1])


def test_cli_eval_prints_recall_mrr_and_within150(ep19_data_dir: Path, tmp_path: Path):
    f = tmp_path / "mini.jsonl"
    f.write_text(
        json.dumps({"question": "Which optimizer was used?", "answer": "we're using AdamW"})
        + "\n"
        + json.dumps({"question": "How is he on Twitter?", "answer": "NeelNanda5"})
        + "\n"
    )
    p = run_cli("eval", str(f), "--json", data_dir=ep19_data_dir)
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    assert m["questions"] == 2
    for key in ("recall@1", "recall@5", "recall@10", "mrr", "within150@5"):
        assert 0.0 <= m[key] <= 1.0
    assert m["recall@10"] == 1.0
    text = run_cli("eval", str(EVAL), "--split", "dev", data_dir=ep19_data_dir)
    assert text.returncode == 0, text.stderr
    assert "recall@5" in text.stdout and "mrr" in text.stdout and "within150@5" in text.stdout


def test_cli_errors_are_one_line_exit_2(tmp_path: Path):
    p = run_cli("search", "anything", "--json", data_dir=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "no index yet" in p.stderr
    p = run_cli("eval", str(tmp_path / "missing.jsonl"), data_dir=tmp_path)
    assert p.returncode == 2 and "not found" in p.stderr


def test_eval_set_answers_are_verbatim_and_cover_every_section(ep19_data_dir: Path):
    from index.store import IndexStore

    ep = IndexStore(ep19_data_dir).load_episode("axrp-19")
    transcript = " " + " ".join(normalize_words(" ".join(t.text for t in ep.turns))) + " "
    items = [json.loads(x) for x in EVAL.read_text().splitlines() if x.strip()]
    assert len(items) >= 40
    for it in items:
        assert " " + " ".join(normalize_words(it["answer"])) + " " in transcript, it["answer"]
        assert it["split"] in {"dev", "test", "holdout"}
    headings = {t.chapter for t in ep.turns} - {"Introduction"}
    assert len(headings) >= 18
    assert headings <= {it["section"] for it in items}


def test_hit_offset_counts_answers_cut_by_the_passage_end():
    assert hit_offset("a b c. The answer is here", "the answer is here") == 3
    assert hit_offset("x y the answer is right here", "the answer is right here and more") == 2
    assert hit_offset("x y the answer", "the answer is right here and more") is None
    assert hit_offset("nothing to see", "answer") is None


def test_results_start_speaker_text_and_link_describe_one_span_of_a_chapter(
    searcher: Searcher, ep19_data_dir: Path
):
    """start/speaker/text/link describe one span that begins at a sentence of the episode and
    stays inside one chapter."""
    from index.store import IndexStore

    ep = IndexStore(ep19_data_dir).load_episode("axrp-19")
    results = searcher.search("which modulus did he use for modular addition", k=5)
    assert any(hit_offset(r.text, "mod 113") is not None for r in results)
    words, turn_of = [], []
    for t in ep.turns:
        words += t.text.split()
        turn_of += [t] * len(t.text.split())
    for r in results:
        assert r.text.split() == words[r.word_start : r.word_end]
        assert len(r.text.split()) <= 250
        assert r.link == f"/?episode=axrp-19&t={int(r.start)}"
        first = turn_of[r.word_start]
        assert r.speaker == first.speaker and first.start <= r.start <= first.end
        assert {t.chapter for t in turn_of[r.word_start : r.word_end]} == {r.chapter}


def _passage(kind: str, ord_: int, text: str, title: str | None = None):
    from index.chunk import Passage

    return Passage(
        episode="ep",
        kind=kind,
        ord=ord_,
        text=text,
        embed_text=text,
        speaker="Host" if kind == "transcript" else None,
        chapter="Chat" if kind == "transcript" else "Results",
        start=10.0 * ord_ if kind == "transcript" else None,
        end=10.0 * ord_ + 9 if kind == "transcript" else None,
        title=title,
        url="https://example.org/paper" if title else None,
        word_start=1000 * ord_,
        word_end=1000 * ord_ + len(text.split()),
    )


def _in_memory(passages, vectors, model, config: SearchConfig | None = None) -> HybridIndex:
    from index.store import flat_index

    ids = range(len(passages))
    return HybridIndex(passages, model, flat_index(ids, vectors), ids, config=config)


def test_mixed_search_keeps_at_most_one_paper_per_five_results_at_its_fused_rank():
    from index.embed import embed_texts, load_embedder

    model = load_embedder()
    papers = [
        _passage(
            "paper",
            i,
            f"Grokking on modular addition: weight decay result number {i}.",
            title="Progress measures for grokking",
        )
        for i in range(6)
    ]
    talk = [
        _passage("transcript", i, text)
        for i, text in enumerate(
            [
                "We talked about grokking and modular addition in the episode.",
                "The weather was nice and we went for a walk.",
                "Weight decay matters for grokking, he said.",
                "My favourite food is pasta with tomatoes.",
                "Induction heads copy earlier text.",
                "The podcast is edited by someone else.",
            ]
        )
    ]
    passages = papers + talk
    vecs = embed_texts(model, [p.embed_text for p in passages])
    q = "grokking modular addition weight decay"
    mixed = _in_memory(passages, vecs, model).moments(q, k=5)
    kinds = [m.kind for m in mixed]
    assert len(mixed) == 5 and kinds.count("paper") == 1, kinds
    # the paper sits where fusion ranked it: the best paper outranks every transcript here
    assert kinds[0] == "paper"
    ten = [m.kind for m in _in_memory(passages, vecs, model).moments(q, k=10)]
    assert ten[:8].count("paper") == 2  # two per ten; more only once the transcripts run out
    assert ten[8:] == ["paper", "paper"]
    # papers alone, or the cap switched off: no cap
    only = _in_memory(passages, vecs, model).moments(q, k=5, kinds=("paper",))
    assert [m.kind for m in only] == ["paper"] * 5
    free = _in_memory(passages, vecs, model, SearchConfig(paper_share=0)).moments(q, k=5)
    assert [m.kind for m in free].count("paper") >= 3


def test_result_card_text_reads_as_speaker_turns_with_the_answer_emphasised(searcher: Searcher):
    """The card draws one paragraph per turn, the speaker's name first, and marks the answering
    sentence once; the words are escaped (the text is the transcript's, not markup)."""
    from ui.components import result_text_html

    r = searcher.search("which modulus did he use for modular addition", k=1)[0]
    html = result_text_html(r, ["modulus"])
    assert html.count("<p>") == len(r.turns)
    for t in r.turns:
        assert f'<span class="pl-speaker">{t.speaker}:</span>' in html
    assert html.count('data-pl-answer="1"') == 1
    assert "<script" not in html
