"""The audio clock on long speech: real-time factor, peak memory and word-time error on 2 cores.

Episode 19's own text from its start, spoken by espeak-ng (tests/support/speech.py) until
``--minutes`` of audio, with what real podcast audio adds: an untranscribed intro, an ad every
~10 minutes, fillers every ninth sentence, three speaking rates and noise.  The true start of
every sentence is known.  Hearing and aligning run in a fresh process (so its peak RSS is theirs
alone, not the synthesiser's), with no cache.  Side by side, from the same run: Whisper's word
times alone (``ingest.audio_align``), then with PocketSphinx forced alignment between heard
words (``ingest.forced_align``, what ships), and the estimate without audio: turns placed
between chapter starts every ~8 minutes (what ``ingest.align`` has from a typical feed), by
word count.  Goals (issues 12 and 16): a 4-hour episode in <= 1 hour (real-time factor
<= 0.25), <= 1.5 GB; turn starts median <= 0.5 s, max <= 3 s; sentence starts median <= 0.3 s.

    python bench/bench_audio_clock.py [--minutes 30] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.spoken_ep19 import error_stats, speak  # noqa: E402
from ingest.transcript import parse_transcript  # noqa: E402


def child(wav: str, md: str, threads: int) -> None:
    """Hear and align ``wav`` against the turns of ``md``; print timings, RSS and word times."""
    from ingest.asr import audio_duration, hear, load_whisper
    from ingest.audio_align import align_to_audio
    from ingest.forced_align import force_align
    from podlens.sentences import turn_words

    turns = parse_transcript(Path(md).read_text(encoding="utf-8"), "b").to_turns()
    t0 = time.perf_counter()
    load_whisper(threads=threads)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    words = hear(wav)
    t_hear = time.perf_counter() - t0
    t0 = time.perf_counter()
    al = align_to_audio(turns, words, audio_duration(wav))
    t_align = time.perf_counter() - t0
    t0 = time.perf_counter()
    forced = force_align(wav, [w for t in turns for w in turn_words(t)], al, audio_duration(wav))
    t_force = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": round(t_load, 1),
                "hear_s": round(t_hear, 1),
                "align_s": round(t_align, 2),
                "force_s": round(t_force, 1),
                "peak_rss_mb": round(rss),
                "heard_share": round(al.heard_share, 3),
                "forced_share": round(forced.source.count("forced") / len(forced.source), 3),
                "unsure": al.unsure,
                "starts": al.starts,
                "forced_starts": forced.starts,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--work", default=str(REPO / "bench" / "results" / "audio_clock"))
    ap.add_argument("--child", nargs=2, metavar=("WAV", "MD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.threads)
        return
    st = speak(args.minutes, Path(args.work))
    speech, first_of_turn, words_before = st.speech, st.first_of_turn, st.words_before
    sentences, n_words = st.sentences, sum(len(s.split()) for s in st.sentences)
    print(
        f"synthesised {speech.duration / 60:.1f} min, {len(sentences)} sentences, "
        f"{len(st.turns)} turns in {st.seconds:.0f} s",
        flush=True,
    )
    md = st.md
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--threads",
            str(args.threads),
            "--child",
            str(speech.path),
            str(md),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall = time.perf_counter() - t0
    got = json.loads(out.strip().splitlines()[-1])
    truth = speech.sentence_starts

    def errors(starts: list[float]) -> dict[str, dict[str, float]]:
        sent = [starts[w] - truth[i] for i, w in enumerate(words_before)]
        turn = [sent[k] for k in first_of_turn]
        return {"turn_start": error_stats(turn), "sentence_start": error_stats(sent)}

    whisper, hybrid = errors(got.pop("starts")), errors(got.pop("forced_starts"))
    # Without audio: chapters every ~8 minutes at true sentence starts, words spread between.
    per_chapter = len(sentences) * 8 * 60 / speech.duration
    chap = list(range(0, len(sentences), max(1, round(per_chapter))))
    chap_t = [truth[k] for k in chap] + [speech.duration]
    chap_w = [words_before[k] for k in chap] + [n_words]
    est = []
    for i, w in enumerate(words_before):
        c = max(j for j in range(len(chap)) if chap_w[j] <= w)
        frac = (w - chap_w[c]) / max(1, chap_w[c + 1] - chap_w[c])
        est.append(chap_t[c] + frac * (chap_t[c + 1] - chap_t[c]) - truth[i])
    est_turn = [est[k] for k in first_of_turn]
    result = {
        "audio_minutes": round(speech.duration / 60, 1),
        "sentences": len(sentences),
        "turns": len(st.turns),
        "threads": args.threads,
        "wall_s": round(wall, 1),
        "real_time_factor": round(
            (got["hear_s"] + got["align_s"] + got["force_s"]) / speech.duration, 3
        ),
        **got,
        "whisper_words": whisper,
        "hybrid_forced": hybrid,
        "chapters_every_8_min": {
            "turn_start": error_stats(est_turn),
            "sentence_start": error_stats(est),
        },
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
