#!/usr/bin/python3
"""Run ember's end-to-end tests: every tests/e2e/test_*.py (unittest).

  /usr/bin/python3 tests/e2e/run.py [-k PATTERN]... [-v] [-x] [--list]

The target comes from the environment (see harness.py):
  EMBER_BUILD=build          where emberd is (default build/, repo-relative)
  EMBER_TARGET=redis         run the suite against redis-server instead
  EMBER_HOST/EMBER_PORT      run it against a server that is already up

-k selects tests whose id (module.Class.test_name) matches PATTERN, a
substring or an fnmatch pattern; it may be repeated.  Exits 0 when every
selected test passed (skips are fine), 1 otherwise, 2 on bad usage.  The
last line is always "e2e: N passed, N failed, N skipped".
"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class CountingResult(unittest.TextTestResult):
    """Counts successes too: class fixture errors (setUpClass) are errors
    without a test, so testsRun alone cannot tell how many passed."""

    successes = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.successes += 1


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="select tests by id substring or fnmatch pattern")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="one line per test")
    ap.add_argument("-x", "--failfast", action="store_true",
                    help="stop at the first failure")
    ap.add_argument("--list", action="store_true",
                    help="list the selected tests and exit")
    args = ap.parse_args()

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if any(c in p for c in "*?[") else
                                   "*%s*" % p for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(iter_tests(suite))
    if args.list:
        for t in tests:
            print(t.id())
        return 0
    if not tests:
        print("e2e: no test matches %s" % (args.patterns or "test_*.py"))
        print("e2e: 0 passed, 0 failed, 0 skipped")
        return 1

    kind = harness.target_kind()
    print("e2e: %d tests against %s" % (len(tests),
                                        harness.target_description()))
    if kind == "ember" and not os.access(harness.ember_binary(), os.X_OK):
        print("e2e: FAILED: %s is not built (run `make`, or set "
              "EMBER_TARGET=redis)" % harness.ember_binary())
        print("e2e: 0 passed, %d failed, 0 skipped" % len(tests))
        return 1
    sys.stdout.flush()

    runner = unittest.TextTestRunner(stream=sys.stdout,
                                     verbosity=2 if args.verbose else 1,
                                     failfast=args.failfast,
                                     resultclass=CountingResult)
    t0 = time.monotonic()
    result = runner.run(unittest.TestSuite(tests))
    elapsed = time.monotonic() - t0

    # Nothing may outlive the run: servers still registered, or arenas of
    # this process left in /dev/shm, are failures of the harness or a test.
    leaks = []
    with harness._live_lock:
        live = list(harness._live)
    for s in live:
        leaks.append("server still running: %r" % s)
        s.stop(check=False)
    own = harness.shm_files("%s-%d" % (harness.NAME_PREFIX, os.getpid()))
    if own:
        leaks.append("arenas left in %s: %s" % (harness.SHM_DIR, own))
        for p in own:
            os.unlink(p)
    for msg in leaks:
        print("e2e: LEAK: %s" % msg)

    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses) + len(leaks)
    skipped = len(result.skipped)
    passed = result.successes
    verdict = "OK" if failed == 0 else "FAILED"
    print("e2e: %s in %.1fs against %s" % (verdict, elapsed,
                                          harness.target_description()))
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
