"""The audio clock (issue 12): a transcript aligned to its own audio lands on each turn and
sentence, through the real CLI, with speech the transcript lacks, fillers, a varied rate, noise
and words no dictionary has.

The audio is episode 19's own text spoken by espeak-ng (:mod:`tests.support.speech`), so the true
start of every sentence is known; Whisper tiny.en hears it as it would hear the real episode.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest

from ingest import asr
from ingest.__main__ import main as ingest_main
from ingest.transcript import parse_transcript
from podlens.models import Episode
from podlens.sentences import episode_sentences, split_sentences
from tests.support.httpserver import FixtureServer, Route
from tests.support.speech import ESPEAK, feed_with_audio, synthesise

pytestmark = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not installed (make test-deps)"
)


def _ingest(capsys, *args: str) -> tuple[int, str, str]:
    rc = ingest_main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_transcript_aligned_to_its_audio_lands_on_each_turn_and_sentence(
    spoken, heard, tmp_path, capsys
):
    d, speech, first_of_turn = spoken
    data = tmp_path / "data"
    shutil.copytree(heard, data / "asr")  # what Whisper hears, from the session's one hearing
    with FixtureServer() as srv:
        feed = srv.add(
            "/feed.xml", Route(feed_with_audio(srv.url("/a.wav")).encode(), "application/rss+xml")
        )
        srv.add("/a.wav", Route(file=speech.path, content_type="audio/wav"))
        rc, out, err = _ingest(
            capsys,
            *("--feed", feed, "--episode", "1", "--transcript", str(d / "t.md")),
            *("--align-audio", "--data-dir", str(data), "--no-papers", "--json"),
        )
    assert rc == 0, err
    ep = Episode.from_dict(json.loads(out))
    assert ep.clock == "audio"
    assert ep.duration == pytest.approx(speech.duration, abs=0.1)
    sents = episode_sentences(ep)
    assert len(sents) == len(speech.sentence_starts)
    sent_err = [abs(s.start - t) for s, t in zip(sents, speech.sentence_starts, strict=True)]
    turn_err = [
        abs(ep.turns[i].start - speech.sentence_starts[k]) for i, k in enumerate(first_of_turn)
    ]
    assert statistics.median(turn_err) <= 0.5 and max(turn_err) <= 3.0, turn_err
    assert statistics.median(sent_err) <= 0.3, sorted(sent_err)[-10:]
    # the intro and the ad are not in the transcript: nothing was placed inside them
    assert ep.turns[0].start >= speech.sentence_starts[0] - 1.0
    assert (data / "audio").is_dir()  # the download is kept: a re-run fetches nothing


def test_audio_of_other_speech_keeps_the_episode_on_its_old_clock_with_a_warning(
    spoken, tmp_path, capsys
):
    d, _, _ = spoken
    other = synthesise(
        [
            "The weather tomorrow will be sunny with a light breeze from the west.",
            "Bring an umbrella anyway, because forecasts are often wrong in spring.",
        ],
        tmp_path / "other.wav",
    )
    rc, out, err = _ingest(
        capsys,
        *_offline_item(d, tmp_path),
        *("--audio", str(other.path), "--dry-run", "--json"),
    )
    assert rc == 0, err
    assert json.loads(out)["clock"] == "none"
    assert "of the transcript was heard in it; kept the none clock" in err


def _write_feed(tmp_path: Path) -> Path:
    p = tmp_path / "feed.xml"
    p.write_text(feed_with_audio("http://example.invalid/1.wav"), encoding="utf-8")
    return p


def _offline_item(d: Path, tmp_path: Path) -> tuple[str, ...]:
    """The ingest arguments for the spoken transcript's item in a feed whose enclosure is
    nowhere (``--audio`` gives the audio)."""
    return ("--feed", str(_write_feed(tmp_path)), "--episode", "1", "--transcript", str(d / "t.md"))


def test_a_file_that_is_not_audio_is_a_one_line_error_and_nothing_is_written(
    spoken, tmp_path, capsys
):
    d, _, _ = spoken
    bogus = tmp_path / "notes.mp3"
    bogus.write_text("this is not audio\n" * 50, encoding="utf-8")
    data = tmp_path / "data"
    rc, out, err = _ingest(
        capsys,
        *_offline_item(d, tmp_path),
        *("--audio", str(bogus), "--data-dir", str(data), "--no-papers"),
    )
    assert rc == 2 and out == ""
    assert err.startswith(f"ingest: error: audio {bogus}: cannot decode") and err.count("\n") == 1
    assert not data.exists() or not any(data.rglob("*.db")), "nothing is stored on a refusal"


def test_hearing_resumes_at_the_first_slice_it_had_not_finished(tmp_path, monkeypatch):
    clip = synthesise(
        [
            "Induction heads copy what came after the last time this token appeared.",
            "Grokking is when a model generalises long after it memorised the training set.",
            "Weight decay pushes the network towards the simpler circuit.",
        ],
        tmp_path / "clip.wav",
        pause=1.0,
    )
    cache = tmp_path / "asr"
    first = asr.hear(clip.path, cache, slice_seconds=4.0)
    slices = sorted(cache.glob("*/*.json"), key=lambda f: int(f.stem))
    assert len(slices) >= 3
    slices[-1].unlink()  # as if the run had stopped before the last slice
    heard = []
    real = asr.hear_slice
    monkeypatch.setattr(asr, "hear_slice", lambda m, x, off: heard.append(off) or real(m, x, off))
    again = asr.hear(clip.path, cache, slice_seconds=4.0)
    assert heard == [4.0 * (len(slices) - 1)]
    assert [w.text for w in again] == [w.text for w in first]


def _ingested(spoken, heard, data: Path, feed: str) -> str:
    """Ingest the spoken transcript from ``feed`` into ``data`` (its old clock), with the audio
    already heard; the episode's id."""
    d, _, _ = spoken
    shutil.copytree(heard, data / "asr")
    rc = ingest_main(
        [
            "--feed",
            feed,
            "--episode",
            "1",
            "--transcript",
            str(d / "t.md"),
            "--data-dir",
            str(data),
            "--no-papers",
        ]
    )
    assert rc == 0
    from index.store import IndexStore

    (summary,) = IndexStore(data).list_episodes()
    assert summary.clock == "none"
    return summary.id


def test_an_ingested_episode_moves_to_the_audio_clock_in_place_and_search_lands_there(
    spoken, heard, tmp_path, capsys
):
    from index.search import Searcher

    d, speech, _ = spoken
    data = tmp_path / "data"
    ep_id = _ingested(spoken, heard, data, str(_write_feed(tmp_path)))
    mine = parse_transcript((d / "t.md").read_text(encoding="utf-8"), "t").to_turns()
    sentences = [s for t in mine for s in split_sentences(t.text)]
    k = next(i for i, s in enumerate(sentences) if len(s.split()) >= 12 and i > 20)
    before = Searcher(data).search(sentences[k], k=1, kinds=("transcript",))
    assert before and before[0].start is None  # no clock: searchable, no jump

    capsys.readouterr()
    rc, out, err = _ingest(
        capsys, "align-audio", ep_id, "--audio", str(speech.path), "--data-dir", str(data)
    )
    assert rc == 0, err
    assert out.startswith(f"{ep_id}: clock audio")
    (hit,) = Searcher(data).search(sentences[k], k=1, kinds=("transcript",))
    assert hit.start == pytest.approx(speech.sentence_starts[k], abs=1.0)
    assert f"t={int(hit.start)}" in hit.link


def test_align_audio_of_an_episode_not_in_the_library_is_a_one_line_error(tmp_path, capsys):
    rc, out, err = _ingest(capsys, "align-audio", "nope-1", "--data-dir", str(tmp_path / "d"))
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("ingest: error: no episode 'nope-1' in the library")


def test_the_episode_page_aligns_to_the_enclosure_in_the_background(
    spoken, heard, tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO
    from ui.library import align_run

    _, speech, _ = spoken
    data = tmp_path / "data"
    with FixtureServer() as srv:
        srv.add("/a.wav", Route(file=speech.path, content_type="audio/wav"))
        feed = tmp_path / "feed.xml"
        feed.write_text(feed_with_audio(srv.url("/a.wav")), encoding="utf-8")
        ep_id = _ingested(spoken, heard, data, str(feed))
        monkeypatch.setenv("PODLENS_DATA_DIR", str(data))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        at.query_params["episode"] = ep_id
        at.switch_page("app_pages/episode.py")
        at.run()
        assert not at.exception
        assert any("no clock" in i.value for i in at.info)
        at.button(key="pl_align").click().run()
        assert not at.exception
        run = align_run(ep_id)
        assert run is not None
        if not run.done:  # drawn as a progress bar while it runs
            assert any(b.proto.text.startswith("Aligning to the audio") for b in at.get("progress"))
        run.join(timeout=300)  # the page was drawn without waiting for it
        at.run()
    assert not at.exception
    assert run.result[0] == "audio"
    assert any("aligned to the audio" in c.value for c in at.caption)
    assert not any("no clock" in i.value for i in at.info)
    assert any(r["stage"] == "hear" for r in run.records)


def test_forced_alignment_times_sentences_to_a_tenth_of_a_second_around_untranscribed_speech(
    spoken, heard
):
    from ingest.audio_align import align_to_audio
    from ingest.forced_align import force_align
    from podlens.sentences import turn_words

    d, speech, _ = spoken
    turns = parse_transcript((d / "t.md").read_text(encoding="utf-8"), "t").to_turns()
    words = asr.hear(speech.path, heard)
    before = align_to_audio(turns, words, speech.duration)
    after = force_align(
        speech.path, [w for t in turns for w in turn_words(t)], before, speech.duration
    )
    firsts, at = [], 0
    for t in turns:
        for s in split_sentences(t.text):
            firsts.append(at)
            at += len(s.split())

    def errors(al):
        return [
            abs(al.starts[w] - true) for w, true in zip(firsts, speech.sentence_starts, strict=True)
        ]

    assert sum(s == "forced" for s in after.source) >= 0.6 * len(after.source)
    assert statistics.median(errors(after)) <= 0.1 < statistics.median(errors(before))
    assert max(errors(after)) <= max(errors(before)) + 0.5  # never drags a stretch away
    assert before.extra  # the intro, the ad and the fillers were heard and kept out of chunks


def test_words_missing_from_the_dictionary_are_said_as_the_words_they_are_made_of():
    from ingest.forced_align import Aligner

    aligner = Aligner()
    assert aligner.spellings("interpretability") == ["interpretability"]
    assert aligner.spellings("TransformerLens,") == ["transformerlens"]
    assert aligner.spellings("scale-invariant") == ["scale", "invariant"]
    assert aligner.spellings("[they're]") == ["they're"]
    assert aligner.spellings("AdamW") == []  # nothing to build it from: the aligner skips it
