"""Issue 13's headline cell: N = 100,000, B = 8, the batch core against the Mesa engine, in one process.

    python benchmarks/headline.py [--rounds 3] [--threads 1 2]

Alternates the Mesa engine (3 steps) and the batch core (24 steps, each thread
count asked for), ``rounds`` times, with :func:`civsim.bench.measure` (the
``civsim bench`` records), and prints every record with the 1-minute load
average when it was taken. The machine is shared: compare figures taken at
similar load, and the batch core with the Mesa engine of the same round.
"""

from __future__ import annotations

import argparse

from civsim.bench import measure

N, B = 100_000, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    for r in range(args.rounds):
        mesa = measure("mesa", N, 1, 3)
        rate = mesa["citizen_steps_per_s"]
        print(f"round {r + 1}: mesa  {rate:.3g} citizen-steps/s (load {mesa['load']:.2f})")
        for threads in args.threads:
            rec = measure("batch", N, B, 24, threads=threads)
            ratio = rec["citizen_steps_per_s"] / rate
            print(
                f"round {r + 1}: batch {rec['citizen_steps_per_s']:.3g} citizen-steps/s on {rec['threads']} "
                f"thread(s), {ratio:.0f}x Mesa, {rec['seconds'] / rec['steps'] * 1e3:.1f} ms a step, "
                f"{rec['bytes_per_citizen_run']:.0f} bytes per citizen per run (load {rec['load']:.2f})"
            )


if __name__ == "__main__":
    main()
