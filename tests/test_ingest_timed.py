"""Podcasting 2.0 timed transcripts: VTT, SRT and JSON of one speech give the same turns and
times, used as written (never re-aligned), chosen by preference, with the episode's clock."""

from __future__ import annotations

import json

import pytest

from ingest.__main__ import main
from ingest.pipeline import build_episode
from ingest.timed import TranscriptLink, choose_transcript, parse_timed
from podlens.errors import PodlensError
from podlens.models import Episode
from tests.support.httpserver import Route

# One speech: (speaker, start, end, text) per cue.  Alice speaks two cues in a row (one turn).
SPEECH = [
    ("Alice Smith", 0.5, 4.25, "Welcome to the show."),
    ("Alice Smith", 4.25, 9.0, "Today we talk about interpretability & circuits."),
    ("Bob", 9.5, 15.125, "Thanks for having me, it's great to be here."),
    ("Alice Smith", 15.5, 21.0, "Let's start with induction heads."),
    ("Bob", 21.0, 1830.75, "Sure. An induction head copies what came after the last match."),
]


def _ts(t: float, sep: str = ".") -> str:
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{int(s):02d}{sep}{round((s % 1) * 1000):03d}"


def as_vtt() -> str:
    cues = [
        f"{i}\n{_ts(a)} --> {_ts(b)} align:start\n<v {who}>{text.replace('&', '&amp;')}</v>"
        for i, (who, a, b, text) in enumerate(SPEECH, 1)
    ]
    return "WEBVTT\n\nNOTE written by hand\n\n" + "\n\n".join(cues) + "\n"


def as_srt() -> str:
    cues = [
        f"{i}\n{_ts(a, ',')} --> {_ts(b, ',')}\n{who}: {text}"
        for i, (who, a, b, text) in enumerate(SPEECH, 1)
    ]
    return "\n\n".join(cues) + "\n"


def as_json() -> str:
    segs = [{"speaker": w, "startTime": a, "endTime": b, "body": t} for w, a, b, t in SPEECH]
    return json.dumps({"version": "1.0.0", "segments": segs})


CHAPTERS = {
    "version": "1.2.0",
    "chapters": [
        {"startTime": 0, "title": "Welcome"},
        {"startTime": 15, "title": "Induction heads"},
        {"startTime": 900, "title": "Silent", "toc": False},
    ],
}

TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip", "json": "application/json"}
BODIES = {"vtt": as_vtt, "srt": as_srt, "json": as_json}


def feed_xml(transcripts: list[tuple[str, str]], chapters: str | None, duration: str = "") -> str:
    tags = "".join(f'<podcast:transcript url="{u}" type="{t}"/>' for u, t in transcripts)
    if chapters:
        tags += f'<podcast:chapters url="{chapters}" type="application/json+chapters"/>'
    dur = f"<itunes:duration>{duration}</itunes:duration>" if duration else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Timed Show</title>
<item><title>7 - Circuits</title><guid>timed-7</guid>{dur}
<enclosure url="https://example.invalid/7.mp3" type="audio/mpeg" length="1"/>{tags}
<description>An episode.</description></item></channel></rss>"""


def _serve(http_server, fmt: str, duration: str = "") -> str:
    url = http_server.add(f"/t.{fmt}", Route(BODIES[fmt]().encode(), content_type=TYPES[fmt]))
    chapters = http_server.add(
        "/chapters.json", Route(json.dumps(CHAPTERS).encode(), content_type="application/json")
    )
    feed = feed_xml([(url, TYPES[fmt])], chapters, duration)
    return http_server.add(f"/feed-{fmt}.xml", Route(feed.encode(), content_type="text/xml"))


def _shape(ep: Episode) -> list[tuple]:
    return [(t.speaker, t.text, t.chapter, t.start, t.end) for t in ep.turns]


def test_vtt_srt_and_json_of_one_speech_give_the_same_turns_and_times(http_server):
    eps = {f: build_episode(_serve(http_server, f), episode=7) for f in ("vtt", "srt", "json")}
    assert _shape(eps["vtt"]) == _shape(eps["srt"]) == _shape(eps["json"])
    turns = eps["vtt"].turns
    # consecutive cues of one speaker are one turn, from its first start to its last end
    assert [(t.speaker, t.start, t.end) for t in turns] == [
        ("Alice Smith", 0.5, 9.0),
        ("Bob", 9.5, 15.125),
        ("Alice Smith", 15.5, 21.0),
        ("Bob", 21.0, 1830.75),
    ]
    assert turns[0].text == "Welcome to the show. Today we talk about interpretability & circuits."
    assert [t.chapter for t in turns] == [
        "Welcome",
        "Welcome",
        "Induction heads",
        "Induction heads",
    ]
    for ep in eps.values():
        assert ep.clock == "transcript"
        assert [c.title for c in ep.chapters] == ["Welcome", "Induction heads"]


def test_timed_transcript_times_are_kept_as_written_not_realigned_to_the_duration(http_server):
    # A duration far past the last cue: an aligner would stretch the turns over it.
    ep = build_episode(_serve(http_server, "vtt", duration="2:00:00"), episode=7)
    assert ep.duration == 7200 and not ep.duration_estimated
    assert ep.turns[-1].end == 1830.75 and ep.turns[1].start == 9.5


def test_without_a_duration_the_last_cue_ends_the_episode(http_server):
    ep = build_episode(_serve(http_server, "json"), episode=7)
    assert ep.duration == 1830.75 and ep.duration_estimated


def test_vtt_or_json_is_preferred_over_srt_over_html(http_server):
    srt = http_server.add("/p.srt", Route(as_srt().encode()))
    vtt = http_server.add("/p.vtt", Route(as_vtt().encode()))
    page = http_server.add("/p.html", Route(b"<html><body>x</body></html>"))
    feed = feed_xml(
        [(page, "text/html"), (srt, "application/x-subrip"), (vtt, "text/vtt")], None, "1:00:00"
    )
    url = http_server.add("/pref.xml", Route(feed.encode(), content_type="text/xml"))
    ep = build_episode(url, episode=7)
    assert ep.transcript_url == vtt and "/p.vtt" in http_server.hits
    assert "/p.srt" not in http_server.hits and "/p.html" not in http_server.hits
    links = [TranscriptLink(page, "text/html"), TranscriptLink(srt, "application/x-subrip")]
    assert choose_transcript(links).url == srt
    assert choose_transcript([TranscriptLink(page, "text/html")]).url == page
    assert choose_transcript([TranscriptLink("http://x/t.txt", "text/plain")]) is None


def test_dry_run_json_shows_the_clock(http_server, capsys):
    rc = main(["--feed", _serve(http_server, "srt"), "--episode", "7", "--dry-run", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clock"] == "transcript" and out["turns"][1]["start"] == 9.5


def test_a_vtt_cue_with_two_voices_is_shared_between_them_by_text_length():
    cues = parse_timed(
        "WEBVTT\n\n00:00:10.000 --> 00:00:20.000\n<v A>one two three</v> <v B>four five six</v>\n",
        "vtt",
    )
    assert [(c.speaker, c.start, c.end) for c in cues] == [("A", 10.0, 15.0), ("B", 15.0, 20.0)]


def test_srt_cues_without_a_name_continue_the_previous_speaker():
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nAlice: Hi.\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nStill me.\n"
    )
    cues = parse_timed(srt, "srt")
    assert [c.speaker for c in cues] == ["Alice", None]


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("vtt", "00:00:01.000 --> 00:00:02.000\nhi\n", "no WEBVTT header"),
        ("vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\n<v A>hi</v>\n", "ends before it starts"),
        ("srt", "1\n00:00:01,000 --> 00:99:02,000\nA: hi\n", "not a cue time"),
        ("json", '{"segments": [{"startTime": "NaN", "endTime": 2, "body": "x"}]}', "invalid"),
        ("json", '{"segments": [{"endTime": 2, "body": "x"}]}', "no numeric startTime"),
        ("json", "[1, 2]", "no 'segments' list"),
    ],
)
def test_a_broken_timed_transcript_is_one_clear_error(fmt, text, message):
    with pytest.raises(PodlensError, match=message):
        parse_timed(text, fmt, "t")


NO_CLOCK_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title>
<item><title>3 - No clock</title><guid>g3</guid><description>No stamps.</description></item>
</channel></rss>"""
UNTIMED = "**Alice:**\nFirst thing.\n\n**Bob:**\nSecond thing.\n"


def test_an_item_with_no_clock_keeps_its_words_without_times(tmp_path):
    feed, md = tmp_path / "f.xml", tmp_path / "t.markdown"
    feed.write_text(NO_CLOCK_FEED)
    md.write_text(UNTIMED)
    ep = build_episode(str(feed), transcript=str(md), episode=3)
    assert ep.clock == "none" and ep.duration is None
    assert [t.text for t in ep.turns] == ["First thing.", "Second thing."]
    assert all(t.start is None and t.end is None for t in ep.turns)


def test_an_item_with_only_a_duration_is_approximate(tmp_path):
    feed, md = tmp_path / "f.xml", tmp_path / "t.markdown"
    itunes = '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
    xml = NO_CLOCK_FEED.replace('<rss version="2.0">', itunes)
    feed.write_text(xml.replace("<guid>", "<itunes:duration>60</itunes:duration><guid>"))
    md.write_text(UNTIMED)
    with pytest.warns(UserWarning):
        ep = build_episode(str(feed), transcript=str(md), episode=3)
    assert ep.clock == "approximate" and ep.turns[-1].end == 60


def test_an_episode_stored_before_clocks_reads_back_with_an_inferred_clock():
    d = Episode("x", "T", "P", None, None, 60.0).to_dict()
    del d["clock"]
    d["turns"] = [{"speaker": "A", "text": "hi", "chapter": "c", "start": 0.0, "end": 60.0}]
    assert Episode.from_dict(d).clock == "approximate"
    d["chapters"] = [{"title": "c", "start": 0.0}]
    assert Episode.from_dict(d).clock == "chapters"
