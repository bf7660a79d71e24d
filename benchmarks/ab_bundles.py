#!/usr/bin/env python3
"""Interleaved A/B of kernel bundle directories, in one process on one card.

For each case of bench_forward.py (FlashKDA's inputs), every directory's
kernels run in turn, `--rounds` times, `--iters` timed calls each after a
short warm-up, queued back to back (bench_forward.time_ms: the host's
time per call stays out); prints the median over the rounds of each
directory's median per call. Interleaving the directories call by call
keeps this card's drift of up to 10 % between minutes out of the
comparison, which separate bench_forward.py runs per directory do not.

    python3 benchmarks/ab_bundles.py DIR [DIR ...] [--cases NAME,...]
        [--rounds R] [--iters N]

A directory holds .kdab bundles (e.g. ones compiled with other
kda-compile options); the front picks from it as it would from
$KDA_BUNDLE_DIR. Timing only: correctness is the GPU suite's.
"""

import argparse
import os
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_forward  # noqa: E402  (puts runtime/python on the path)
from kda import _gpu  # noqa: E402


def use_bundles(directory):
    """Point the front at `directory`."""
    os.environ["KDA_BUNDLE_DIR"] = str(pathlib.Path(directory).resolve())
    _gpu.rescan_bundles()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", help="bundle directories")
    parser.add_argument("--cases", default=",".join(bench_forward.CASES))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    for directory in args.dirs:
        if not any(pathlib.Path(directory).glob("*.kdab")):
            parser.error(f"{directory}: no .kdab bundles there")
    for case in args.cases.split(","):
        if case not in bench_forward.CASES:
            parser.error(f"unknown case {case!r}; cases: {', '.join(bench_forward.CASES)}")
        x = bench_forward.inputs(**bench_forward.CASES[case])
        medians = {d: [] for d in args.dirs}
        for directory in args.dirs:  # load each directory's kernel once
            use_bundles(directory)
            bench_forward.time_ms(bench_forward.run_kda, x, 3)
        for _ in range(args.rounds):
            for directory in args.dirs:
                use_bundles(directory)
                medians[directory].append(
                    bench_forward.time_ms(bench_forward.run_kda, x, args.iters, warmup=3,
                                          queued=True))
        print(f"{case:18s}", "  ".join(f"{pathlib.Path(d).name}={statistics.median(m):.3f}"
                                       for d, m in medians.items()), flush=True)


if __name__ == "__main__":
    main()
