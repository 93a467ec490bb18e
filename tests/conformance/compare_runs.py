"""Compare a cs_futures run of CPython's test_concurrent_futures with the standard library's own run.

Usage:
    python3 tests/conformance/compare_runs.py STDLIB_IDS CS_FUTURES_IDS KNOWN_FAILURES [--max N]

STDLIB_IDS and CS_FUTURES_IDS are the ``--passed-ids`` files of two runs of run_cpython_suite.py in
the same environment (``--stdlib``, then without it). A difference is a test that the standard
library passes and cs_futures does not (fails, errors or skips). Each difference must be listed in
KNOWN_FAILURES (test ids, one per line, with ``#`` comment lines giving the reason), and there may be
at most N of them (default 6). Prints one ``compare:`` line per finding and a summary; exits 0 only
when the run holds. Both runs come from the same machine on the same day, so the comparison follows
the interpreter's test suite as it moves, instead of fixed counts.
"""
import argparse
import sys


def read_ids(path):
    """The test ids in *path*: one per line, blank lines and ``#`` comments ignored."""
    with open(path, encoding="utf-8") as fh:
        return {line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stdlib_ids")
    parser.add_argument("cs_futures_ids")
    parser.add_argument("known_failures")
    parser.add_argument("--max", type=int, default=6)
    args = parser.parse_args()
    stdlib, ours, known = read_ids(args.stdlib_ids), read_ids(args.cs_futures_ids), read_ids(args.known_failures)
    if not stdlib:
        print("compare: the standard library's run passed no test (did it run?)")
        return 1
    differences = stdlib - ours
    unlisted = sorted(differences - known)
    for test_id in unlisted:
        print(f"compare: UNEXPECTED {test_id} passes with the standard library, not with cs_futures")
    for test_id in sorted(known - differences):
        print(f"compare: now passes, remove from {args.known_failures}: {test_id}")
    print(f"compare: the standard library passed {len(stdlib)}, cs_futures {len(ours)} "
          f"({len(ours - stdlib)} that the standard library does not); {len(differences)} differences "
          f"(at most {args.max}), {len(unlisted)} not listed in {args.known_failures}")
    return 0 if not unlisted and len(differences) <= args.max else 1


if __name__ == "__main__":
    sys.exit(main())
