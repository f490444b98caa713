"""``python -m demos grokking|induction [--preset fast] [--json]``: train a demo, print its metrics.

Progress goes to stderr (tqdm); ``--json`` prints one JSON object on stdout. Results and weights
are cached per configuration in ``DATA_DIR/demos/``; ``grokking --resume`` continues an
interrupted run (Ctrl-C saves it) or prints the finished one.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

import torch
from tqdm import tqdm

from podlens.errors import CliParser, PodlensError, cli_errors
from podlens.numbers import float_arg, int_arg


def _run(train, desc: str):
    """Run ``train(stop=..., progress=...)`` with a tqdm bar on stderr (made at the first step,
    so bad input fails with its one-line error alone); Ctrl-C stops it and saves the state."""
    stop = threading.Event()
    bars: list[tqdm] = []

    def progress(step: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=desc, file=sys.stderr, unit="step", mininterval=0.5))
        bars[0].update(step - bars[0].n)

    try:
        return train(stop=stop, progress=progress)
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        for bar in bars:
            bar.close()


def grokking_main(args: argparse.Namespace) -> int:
    from demos import grokking

    cfg = grokking.make_config(
        args.preset,
        p=args.p,
        frac_train=args.frac,
        weight_decay=args.wd,
        lr=args.lr,
        n_epochs=args.steps,
        seed=args.seed,
    )
    result = _run(
        lambda **kw: grokking.train(cfg, args.data_dir, resume=args.resume, **kw),
        f"grokking p={cfg.p}",
    )
    return _print(grokking.summary(result), args.json)


def _print(out: dict, as_json: bool) -> int:
    """The final metrics: one JSON object with ``--json``, else ``key: value`` lines."""
    if as_json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


def induction_main(args: argparse.Namespace) -> int:
    from demos import induction

    cfg = induction.make_config(
        args.preset, n_steps=args.steps, n_heads=args.heads, lr=args.lr, seed=args.seed
    )
    result = _run(lambda **kw: induction.train(cfg, args.data_dir, **kw), "induction")
    return _print(induction.summary(result), args.json)


def build_parser() -> argparse.ArgumentParser:
    ap = CliParser(prog="python -m demos", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="demo", required=True)

    def common(p: argparse.ArgumentParser, presets: list[str]) -> None:
        p.add_argument("--preset", default="fast", choices=presets)
        p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
        p.add_argument("--data-dir", default=None, help="default: data/ or $PODLENS_DATA_DIR")
        # Types refuse NaN, infinity and non-numbers at once (one line, exit 2); each demo's
        # validate() then checks its own ranges.
        p.add_argument(
            "--steps",
            type=int_arg("--steps", 1, 10_000_000),
            default=None,
            help="training steps (full batches)",
        )
        p.add_argument("--lr", type=float_arg("--lr", 0.0), default=None)
        p.add_argument(
            "--seed", type=int_arg("--seed", 0, 2**32 - 1), default=None, help="model init seed"
        )
        p.add_argument(
            "--threads",
            type=int_arg("--threads", 1, 256),
            default=1,
            help="torch threads (default 1: small models)",
        )

    g = sub.add_parser("grokking", help="1-layer transformer on (a + b) mod p")
    common(g, ["fast", "paper"])
    g.add_argument(
        "--p", type=int_arg("--p", 2, 100_000), default=None, help="the modulus (a prime)"
    )
    g.add_argument(
        "--frac",
        type=float_arg("--frac", 0.0, 1.0),
        default=None,
        help="fraction of pairs to train",
    )
    g.add_argument(
        "--wd",
        type=float_arg("--wd", 0.0),
        default=None,
        help="AdamW weight decay (0: no grokking)",
    )
    g.add_argument("--resume", action="store_true", help="continue a saved run of this config")
    g.set_defaults(func=grokking_main)

    i = sub.add_parser("induction", help="2-layer attention-only transformer, induction heads")
    common(i, ["fast", "wide"])
    i.add_argument("--heads", type=int_arg("--heads", 1, 64), default=None, help="heads per layer")
    i.set_defaults(func=induction_main)
    return ap


@cli_errors("demos")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads < 1:
        raise PodlensError("--threads must be at least 1")
    torch.set_num_threads(args.threads)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
