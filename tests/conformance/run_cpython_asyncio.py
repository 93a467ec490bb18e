"""Run CPython's own test_asyncio under ``python -m cs_futures``.

Usage (from the repository root, after the build):
    python3.13 tests/conformance/run_cpython_asyncio.py [-k PATTERN ...] [-v] [--known-failures FILE]

asyncio uses concurrent.futures for ``run_in_executor`` (a ThreadPoolExecutor by default, process
pools in some tests), ``wrap_future`` and ``asyncio.Future`` interop, and its child watchers set their
own SIGCHLD disposition while pools may have workers: the suite is a real-world client. The script
re-runs itself as ``python -m cs_futures <this script>``, so that ``concurrent.futures`` is served by
cs_futures for the whole suite, exactly as for a user's program, then runs the suite shipped with the
interpreter (``Lib/test/test_asyncio``) with unittest. It prints unittest's report, then
``test_asyncio: R run, P passed, F failed, E errors, S skipped`` and exits 0 only when nothing failed
(with ``--known-failures FILE``: nothing outside the test ids listed there, with their reasons).
A faulthandler dump after ``--hang-timeout`` seconds names a hang instead of waiting forever.
"""
import argparse
import os
import sys
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def _served_by_cs_futures():
    import concurrent.futures
    return concurrent.futures.__name__ == "cs_futures"


def _reexec_under_cs_futures():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    os.execve(sys.executable, [sys.executable, "-m", "cs_futures", os.path.abspath(__file__), *sys.argv[1:]], env)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", default=None)
    parser.add_argument("-v", dest="verbosity", action="store_const", const=2, default=1)
    parser.add_argument("--known-failures", metavar="FILE")
    parser.add_argument("--hang-timeout", type=float, default=600.0)
    args = parser.parse_args()
    if not _served_by_cs_futures():
        _reexec_under_cs_futures()
    import faulthandler
    faulthandler.dump_traceback_later(args.hang_timeout, exit=True)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    suite = loader.loadTestsFromName("test.test_asyncio")
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=args.verbosity).run(suite)
    elapsed = time.monotonic() - started
    faulthandler.cancel_dump_traceback_later()
    failed, errors, skipped = len(result.failures), len(result.errors), len(result.skipped)
    passed = result.testsRun - failed - errors - skipped - len(result.expectedFailures)
    print(f"test_asyncio: {result.testsRun} run, {passed} passed, {failed} failed, "
          f"{errors} errors, {skipped} skipped in {elapsed:.0f} s (concurrent.futures served by cs_futures)")
    if not args.known_failures:
        return 0 if result.wasSuccessful() else 1
    known = _read_known(args.known_failures)
    broken = {test.id().removeprefix("test.test_asyncio.") for test, _ in result.failures + result.errors}
    unexpected = sorted(broken - known)
    print(f"test_asyncio: {len(broken & known)} documented differences (see {args.known_failures}), "
          f"{len(unexpected)} unexpected failures")
    for test_id in unexpected:
        print(f"test_asyncio: UNEXPECTED {test_id}")
    for test_id in sorted(known - broken):
        print(f"test_asyncio: now passes, remove from the list: {test_id}")
    return 1 if unexpected else 0


def _read_known(path):
    with open(path, encoding="utf-8") as fh:
        return {line.strip() for line in fh if line.strip() and not line.startswith("#")}


if __name__ == "__main__":
    sys.exit(main())
