"""Machine transcripts on 2 cores: word error rate, time error, speed, memory, and search quality
against the human transcript of the same speech.

The first ``--minutes`` of episode 19, spoken by espeak-ng with an intro, ads, fillers, three
rates and noise (``bench/spoken_ep19.py``).  In a fresh process (its peak RSS is its own), with
no cache: Whisper tiny.en hears it, PocketSphinx times the words, the words become turns
(``ingest.pipeline.episode_by_ear``'s steps).  Then both the machine transcript and the human
one (aligned to the same audio, ``ingest.pipeline.align_audio``'s steps) are indexed, and the
questions of ``tests/eval/axrp19*.jsonl`` whose answer phrase is said inside the stretch are
asked of each: a hit is right when the time of the answer phrase lies inside it.  Goals (issue
16): an hour in <= 10 minutes and <= 1.5 GB.

    python bench/bench_machine_transcript.py [--minutes 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.spoken_ep19 import error_stats, speak  # noqa: E402
from index.evaluate import hit_offset, normalize_words  # noqa: E402
from ingest.asr import word_error_rate  # noqa: E402
from ingest.audio_align import norm_token  # noqa: E402
from podlens.models import Episode  # noqa: E402

EVAL_SETS = [REPO / "tests" / "eval" / "axrp19.jsonl", REPO / "tests" / "eval" / "axrp19_v2.jsonl"]


def child(wav: str, out: str) -> None:
    """Transcribe ``wav`` as ``episode_by_ear`` does; write the words and the costs to ``out``."""
    from ingest.asr import audio_duration, hear, heard_turns, load_whisper
    from ingest.audio_align import AudioAlignment
    from ingest.forced_align import force_align

    load_whisper()
    t0 = time.perf_counter()
    words = hear(wav)
    t_hear = time.perf_counter() - t0
    duration = audio_duration(wav)
    al = AudioAlignment([w.start for w in words], [w.end for w in words], ["heard"] * len(words))
    t0 = time.perf_counter()
    timed = force_align(wav, [w.text for w in words], al, duration)
    t_force = time.perf_counter() - t0
    turns = heard_turns(
        [type(w)(s, max(s, w.end), w.text) for w, s in zip(words, timed.starts, strict=True)]
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(
        json.dumps(
            {
                "hear_s": round(t_hear, 1),
                "force_s": round(t_force, 1),
                "peak_rss_mb": round(rss),
                "turns": [t.__dict__ for t in turns],
                "words": [w.__dict__ for w in words],
            }
        )
    )


def _episode(turns, duration: float, ep_id: str) -> Episode:  # type: ignore[no-untyped-def]
    return Episode(
        id=ep_id,
        title=ep_id,
        podcast="bench",
        published=None,
        audio_url=None,
        duration=duration,
        turns=turns,
        clock="audio",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--work", default=str(REPO / "bench" / "results" / "machine_transcript"))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from index.build import index_episode
    from index.search import Searcher
    from ingest.asr import Word
    from ingest.audio_align import align_to_audio, apply_to_turns
    from ingest.forced_align import force_align
    from podlens.models import Turn
    from podlens.sentences import turn_words

    work = Path(args.work)
    st = speak(args.minutes, work)
    speech = st.speech
    print(f"synthesised {speech.duration / 60:.1f} min in {st.seconds:.0f} s", flush=True)

    # 1. the machine transcript, in its own process
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--child", str(speech.path), str(work / "machine.json")],
        check=True,
    )
    wall = time.perf_counter() - t0
    got = json.loads((work / "machine.json").read_text())
    machine = [Turn(**t) for t in got.pop("turns")]
    heard_words = [w for t in machine for w in turn_words(t)]
    heard_starts = [x for t in machine for x in (t.word_starts or [])]

    # 2. word error rate, against what was said and against the transcript alone
    hyp = [norm_token(w) for w in heard_words]
    said = [norm_token(w) for w in st.spoken_words]
    written = [norm_token(w) for s in st.sentences for w in s.split()]
    # 3. time error at sentence starts: the heard word matched to a sentence's first word
    firsts = {wb: i for i, wb in enumerate(st.words_before)}
    sm = SequenceMatcher(None, written, hyp, autojunk=False)
    time_err = [
        heard_starts[b.b + d] - speech.sentence_starts[firsts[b.a + d]]
        for b in sm.get_matching_blocks()
        for d in range(b.size)
        if b.a + d in firsts and b.b + d < len(heard_starts)
    ]

    # 4. search quality: the same questions of the human and the machine transcript
    human_turns = st.turns
    words = [Word(**w) for w in got.pop("words")]  # what the child heard
    al = align_to_audio(human_turns, words, speech.duration)
    al = force_align(
        speech.path, [w for t in human_turns for w in turn_words(t)], al, speech.duration
    )
    apply_to_turns(human_turns, al)
    human_text = " ".join(st.sentences)
    norm_before, n = [], 0  # per sentence, the evaluation's words before it
    for sentence in st.sentences:
        norm_before.append(n)
        n += len(normalize_words(sentence))
    questions = []
    for path in EVAL_SETS:
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            at = hit_offset(human_text, row["answer"])
            if at is not None:
                k = max(i for i, wb in enumerate(norm_before) if wb <= at)
                frac = (at - norm_before[k]) / max(1, len(normalize_words(st.sentences[k])))
                nxt = (
                    speech.sentence_starts[k + 1] if k + 1 < len(st.sentences) else speech.duration
                )
                when = speech.sentence_starts[k] + frac * (nxt - speech.sentence_starts[k])
                questions.append((row["question"], when))
    quality = {}
    for name, turns in (("human", human_turns), ("machine", machine)):
        with tempfile.TemporaryDirectory() as d:
            index_episode(_episode(turns, speech.duration, name), d)
            searcher = Searcher(d)
            ranks = []
            for q, when in questions:
                hits = searcher.search(q, k=5, kinds=("transcript",))
                ranks.append(
                    next(
                        (
                            r
                            for r, h in enumerate(hits, 1)
                            if h.start is not None and h.start - 2 <= when <= (h.end or h.start)
                        ),
                        None,
                    )
                )
        quality[name] = {
            "r@1": round(sum(r == 1 for r in ranks) / max(1, len(ranks)), 3),
            "r@5": round(sum(r is not None for r in ranks) / max(1, len(ranks)), 3),
        }
    result = {
        "audio_minutes": round(speech.duration / 60, 1),
        "wall_s": round(wall, 1),
        "real_time_factor": round((got["hear_s"] + got["force_s"]) / speech.duration, 3),
        **got,
        "wer_vs_all_speech": round(word_error_rate(said, hyp), 3),
        "wer_vs_transcript": round(word_error_rate(written, hyp), 3),
        "sentence_start_error": error_stats(time_err),
        "questions": len(questions),
        "search_by_time": quality,
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
