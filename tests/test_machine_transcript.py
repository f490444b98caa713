"""Episodes with audio but no transcript get one heard on this machine (issue 16): a machine
transcript, turns cut at pauses, on the audio clock, that search, snips, ask and the read-along
use like any other.

The audio is a stretch of episode 19 spoken by espeak-ng (:mod:`tests.support.speech`, shared
with the audio-clock tests through their module fixtures), so the words and the true start of
every sentence are known.
"""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.__main__ import main as ingest_main
from ingest.asr import Word, heard_turns, word_error_rate
from ingest.audio_align import norm_token
from ingest.transcript import parse_transcript
from podlens.models import Chapter, Episode
from podlens.sentences import split_sentences, turn_words
from tests.support.httpserver import FixtureServer, Route
from tests.support.speech import feed_with_audio


def _run(capsys, *args: str) -> tuple[int, str, str]:
    rc = ingest_main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def served(spoken, heard, tmp_path_factory):
    """A feed whose item has the spoken audio as its enclosure and no transcript at all."""
    _, speech, _ = spoken
    with FixtureServer() as srv:
        srv.add("/a.wav", Route(file=speech.path, content_type="audio/wav"))
        feed = tmp_path_factory.mktemp("feed") / "feed.xml"
        feed.write_text(feed_with_audio(srv.url("/a.wav")), encoding="utf-8")
        yield str(feed)


@pytest.fixture(scope="module")
def transcribed(served, heard, tmp_path_factory):
    """The feed ingested with ``--all --transcribe``: the data dir and the run's JSON report."""
    data = tmp_path_factory.mktemp("transcribed") / "data"
    shutil.copytree(heard, data / "asr")  # what Whisper hears: nothing is heard again
    args = ["--feed", served, "--all", "--transcribe", "--no-papers", "--data-dir", str(data)]
    assert ingest_main([*args, "--json"]) == 0
    return data, args


def test_an_episode_without_a_transcript_is_transcribed_and_search_plays_the_moment(
    spoken, transcribed
):
    from index.search import Searcher
    from index.store import IndexStore

    d, speech, _ = spoken
    data, _ = transcribed
    (summary,) = IndexStore(data).list_episodes()
    assert summary.machine_transcript and summary.clock == "audio"
    ep = IndexStore(data).load_episode(summary.id)
    assert ep.duration == pytest.approx(speech.duration, abs=0.1)
    assert len(ep.turns) >= 5 and {t.speaker for t in ep.turns} == {"Speaker"}
    assert all(t.word_starts and len(t.word_starts) == len(turn_words(t)) for t in ep.turns)
    truth = parse_transcript((d / "t.md").read_text(encoding="utf-8"), "t").to_turns()
    fillers = {"um", "so", "you", "know", "like"}
    ref = [w for t in truth for w in map(norm_token, turn_words(t)) if w not in fillers]
    hyp = [w for t in ep.turns for w in map(norm_token, turn_words(t)) if w not in fillers]
    assert word_error_rate(ref, hyp) < 0.35

    sentences = [s for t in truth for s in split_sentences(t.text)]
    k = next(i for i, s in enumerate(sentences) if len(s.split()) >= 15 and i > 20)
    (hit,) = Searcher(data).search(sentences[k], k=1, kinds=("transcript",))
    assert hit.episode == ep.id
    # The sentence is heard, not written, so its wording differs a little: the hit is the
    # passage that holds it, and plays from before it.
    assert hit.start - 2.0 <= speech.sentence_starts[k] < hit.end


def test_snips_and_ask_work_on_a_machine_transcript(transcribed):
    from ask.answer import Asker
    from index.store import IndexStore
    from snips.capture import create_snip

    data, _ = transcribed
    (summary,) = IndexStore(data).list_episodes()
    ep = IndexStore(data).load_episode(summary.id)
    snip = create_snip(ep, at=120.0)
    assert snip.start < 120.0 <= snip.end + 1 and snip.quote.strip()
    answer = Asker(data).ask("why would you want mechanistic interpretability?", episode=ep.id)
    assert answer.citations and all(c.start is not None for c in answer.citations)
    assert all(c.text in " ".join(t.text for t in ep.turns) for c in answer.citations)


def test_the_machine_transcript_is_in_the_dry_run_json():
    from ingest.__main__ import _dry_json

    ep = Episode(id="x", title="t", podcast="p", published=None, audio_url=None, duration=None)
    ep.machine_transcript = True
    assert json.loads(_dry_json(ep))["machine_transcript"] is True


def test_without_transcribe_an_item_with_no_transcript_is_a_one_line_error(
    served, tmp_path, capsys
):
    rc, out, err = _run(capsys, "--feed", served, "--episode", "1", "--data-dir", str(tmp_path))
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert "links no transcript" in err and "--transcribe" in err


def test_a_feed_run_transcribes_what_has_no_transcript_once(transcribed, capsys):
    data, args = transcribed
    rc, out, _ = _run(capsys, *args, "--json")
    assert rc == 0
    assert [i["status"] for i in json.loads(out)["items"]] == ["unchanged"]
    rc, out, _ = _run(capsys, "--feed", args[1], "--all", "--data-dir", str(data), "--json")
    (item,) = json.loads(out)["items"]  # without --transcribe: skipped, and says why
    assert item["status"] == "skipped" and "--transcribe" in item["reason"]


def test_heard_words_become_turns_at_pauses_in_the_chapter_playing():
    words = [
        Word(0.0, 0.3, "Hello"),
        Word(0.4, 0.8, "there."),
        Word(3.0, 3.3, "New"),  # after a 2.2 s pause: a new turn
        Word(3.4, 3.9, "turn,"),
        Word(4.0, 4.5, "here."),
    ]
    turns = heard_turns(words, [Chapter("Intro", 0.0), Chapter("Main", 2.5)])
    assert [t.text for t in turns] == ["Hello there.", "New turn, here."]
    assert [(t.start, t.end, t.chapter) for t in turns] == [(0.0, 0.8, "Intro"), (3.0, 4.5, "Main")]
    assert turns[1].word_starts == [3.0, 3.4, 4.0]


def test_the_library_page_adds_a_feed_and_transcribes_it_in_the_background(
    served, heard, tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO
    from ui.jobs import job

    data = tmp_path / "data"
    shutil.copytree(heard, data / "asr")  # what Whisper hears: nothing is heard again
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.switch_page("app_pages/library.py")
    at.run()
    assert not at.exception
    at.checkbox(key="pl_add_transcribe").check().run()
    at.text_input[0].input(served)
    next(b for b in at.button if b.label == "Add every episode").click().run()
    assert not at.exception
    run = job("library")
    assert run is not None
    run.join(timeout=300)  # the page was drawn without waiting for it
    at.run()
    assert not at.exception
    (item,) = run.result[1].items
    assert item.status == "ingested" and "machine transcript" in item.reason
    assert any("1 added, 0 unchanged, 0 skipped" in s.label for s in at.status)
    assert any("machine transcript" in m.value for m in at.markdown)
