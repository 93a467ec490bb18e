"""Run CPython's own concurrent.futures test suite against cs_futures.

Usage (from the repository root, after the build):
    python3.13 tests/conformance/run_cpython_suite.py [-k PATTERN ...] [-v]

The suite is the one shipped with the running interpreter (Lib/test/test_concurrent_futures,
CPython 3.12+). Before its modules are imported, ``concurrent.futures`` and its submodules ``_base``,
``thread`` and ``process`` are replaced in ``sys.modules`` by cs_futures and its submodules, so
every ``from concurrent import futures`` in the suite gets cs_futures. Prints unittest's report,
then ``conformance: R run, P passed, F failed, E errors, S skipped``; exits 0 only when nothing
failed. With ``--known-failures FILE`` (test ids, one per line, ``#`` comments), the tests listed
there are reported as documented differences and only other failures make it exit 1.
"""
import argparse
import os
import sys
import unittest

from compare_runs import read_ids  # this folder's lists of test ids, one format

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))


def install_alias():
    import concurrent
    import cs_futures
    from cs_futures import _base, interpreter, process, thread
    sys.modules["concurrent.futures"] = cs_futures
    concurrent.futures = cs_futures
    modules = [("_base", _base), ("thread", thread), ("process", process)]
    if sys.version_info >= (3, 14):  # concurrent.futures.interpreter and its test_interpreter_pool
        modules.append(("interpreter", interpreter))
    for name, module in modules:
        sys.modules["concurrent.futures." + name] = module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", default=None)
    parser.add_argument("-v", dest="verbosity", action="store_const", const=2, default=1)
    parser.add_argument("--known-failures", metavar="FILE")
    parser.add_argument("--stdlib", action="store_true",
                        help="run the suite on the standard library itself (the baseline), no alias")
    parser.add_argument("--passed-ids", metavar="FILE",
                        help="write the ids of the tests that passed, one per line (for compare_runs.py)")
    args = parser.parse_args()
    if not args.stdlib:
        install_alias()
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    suite = loader.loadTestsFromName("test.test_concurrent_futures")
    result = unittest.TextTestRunner(verbosity=args.verbosity, resultclass=_IdsResult).run(suite)
    failed, errors, skipped = len(result.failures), len(result.errors), len(result.skipped)
    passed = result.testsRun - failed - errors - skipped - len(result.expectedFailures)
    if args.passed_ids:
        with open(args.passed_ids, "w", encoding="utf-8") as fh:
            fh.writelines(test_id + "\n" for test_id in sorted(result.passed_ids))
    print(f"conformance: {result.testsRun} run, {passed} passed, {failed} failed, "
          f"{errors} errors, {skipped} skipped")
    if not args.known_failures:
        return 0 if result.wasSuccessful() else 1
    known = read_ids(args.known_failures)
    broken = {test.id().removeprefix("test.test_concurrent_futures.")
              for test, _ in result.failures + result.errors}
    unexpected = sorted(broken - known)
    print(f"conformance: {len(broken & known)} documented differences (see {args.known_failures}), "
          f"{len(unexpected)} unexpected failures")
    for test_id in unexpected:
        print(f"conformance: UNEXPECTED {test_id}")
    for test_id in sorted(known - broken):
        print(f"conformance: now passes, remove from the list: {test_id}")
    return 1 if unexpected else 0


class _IdsResult(unittest.TextTestResult):
    """unittest's text result that also keeps the ids of the tests that passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed_ids = set()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed_ids.add(test.id().removeprefix("test.test_concurrent_futures."))




if __name__ == "__main__":
    sys.exit(main())
