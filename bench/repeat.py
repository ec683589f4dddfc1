"""Pool several runs of a wall-time bench, each in a fresh process, into one estimate per configuration.

One run of bench/hook_overhead.py or bench/remote_overhead.py interleaves its configurations, so
drift within the run cancels; but on this kind of VM two runs back to back can disagree by more
than the 10% being measured (a fresh process lands its heap, its garbage collections and its
neighbours differently). A single run's interval does not cover that, so this script runs the
bench ``--runs`` times, each a new process writing its samples (``--samples-json``), and prints:

- per run, each configuration's paired median (median of per-round ratios to ``none``);
- pooled, the median of every per-round ratio of every run, with a 95% interval from a two-level
  bootstrap (resample the runs, then the rounds within each): the run-to-run spread is in it;
- how many runs' paired medians were at or under ``--target``;
- with ``--over NAME``, the same pooled figures of every other configuration over ``NAME``
  (``--over empty``: what a hook adds to AutoGen's own cost of having any handler).

    python bench/repeat.py --runs 6 [--target 1.10] [--over empty] \
        -- bench/hook_overhead.py --configs none,capture --rounds 41
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def per_round_ratios(times: dict[str, list[float]], baseline: str = "none") -> dict[str, list[float]]:
    base = times[baseline]
    return {
        name: [s / b for s, b in zip(samples, base, strict=True)]
        for name, samples in times.items()
        if name not in (baseline, "none")
    }


def pooled_interval(runs: list[list[float]], rng: random.Random, resamples: int = 2000) -> tuple[float, float]:
    """95% interval of the pooled median, resampling runs and then rounds within each run."""
    medians = []
    for _ in range(resamples):
        pooled: list[float] = []
        for ratios in rng.choices(runs, k=len(runs)):
            pooled.extend(rng.choices(ratios, k=len(ratios)))
        medians.append(statistics.median(pooled))
    medians.sort()
    return medians[int(resamples * 0.025)], medians[int(resamples * 0.975) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--target", type=float, default=1.10)
    parser.add_argument("--over", metavar="NAME", help="also pool every configuration's ratio to this one")
    parser.add_argument("bench", nargs=argparse.REMAINDER, help="-- the bench script and its arguments")
    args = parser.parse_args()
    command = [a for a in args.bench if a != "--"]
    if not command:
        raise SystemExit("give the bench to run after --, e.g. -- bench/hook_overhead.py --configs none,capture")
    out_dir = Path(tempfile.mkdtemp(prefix="bench-repeat-"))
    ratios: dict[str, list[list[float]]] = {}
    over: dict[str, list[list[float]]] = {}
    for run in range(args.runs):
        path = out_dir / f"run{run}.json"
        started = time.monotonic()
        subprocess.run([sys.executable, *command, "--samples-json", str(path)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        times = json.loads(path.read_text())["times"]
        line = []
        for name, values in per_round_ratios(times).items():
            ratios.setdefault(name, []).append(values)
            line.append(f"{name} {statistics.median(values):.3f}x")
        if args.over:
            for name, values in per_round_ratios(times, args.over).items():
                over.setdefault(name, []).append(values)
        base = statistics.median(times["none"])
        print(f"run {run + 1}: baseline {base:.3f} s, {len(times['none'])} rounds, {time.monotonic() - started:.0f} s; "
              + ", ".join(line), flush=True)  # fmt: skip
    rng = random.Random(0)
    print(f"pooled over {args.runs} fresh processes (median of every per-round ratio, two-level bootstrap CI95):")
    for name, runs in ratios.items():
        print(f"  {name:<9} {pooled_line(runs, rng, args.target)}")
    if over:
        print(f"over {args.over}, pooled the same way:")
        for name, runs in over.items():
            print(f"  {name:<9} {pooled_line(runs, rng, args.target)}")


def pooled_line(runs: list[list[float]], rng: random.Random, target: float) -> str:
    pooled = statistics.median([r for ratios_of_run in runs for r in ratios_of_run])
    low, high = pooled_interval(runs, rng)
    at_target = sum(statistics.median(r) <= target for r in runs)
    return f"{pooled:.3f}x (CI95 {low:.3f}-{high:.3f}); runs at or under {target:.2f}x: {at_target} of {len(runs)}"


if __name__ == "__main__":
    main()
