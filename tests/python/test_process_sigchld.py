"""Worker exits are noticed whatever the program does with SIGCHLD (issue 12, section 3).

Each case runs in a child interpreter (the disposition is process-wide): the child starts a pool,
sets SIGCHLD to a Python handler, SIG_DFL or SIG_IGN (after the first worker started, as asyncio's
child watchers do, or before), then shuts the pool down. The child prints what it saw as JSON; the
test checks that shutdown returned (the child ends within the timeout), every worker has a defined
exitcode and none is left a zombie (``os.waitpid`` raises ChildProcessError: the pool reaped it, or
the kernel did under SIG_IGN).
"""
import json
import textwrap
import unittest

from .support import run_child

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    from cs_futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    disposition, when, crash = sys.argv[1], sys.argv[2], sys.argv[3] == "crash"
    reaped_by_handler = []

    def handler(signum, frame):
        reaped_by_handler.append(signum)

    foreign = []

    def foreign_reaper(count):
        # A daemon's reaper: waitpid(-1) for any child, racing the pool for its workers' status.
        for _ in range(count):
            try:
                foreign.append(os.waitpid(-1, 0)[0])
            except ChildProcessError:
                break

    def set_disposition():
        if disposition == "waitpid":
            import threading
            global reaper
            reaper = threading.Thread(target=foreign_reaper, args=(len(pool._processes),), daemon=True)
            reaper.start()
            return
        signal.signal(signal.SIGCHLD, {"handler": handler, "dfl": signal.SIG_DFL,
                                       "ign": signal.SIG_IGN}[disposition])

    if when == "before":
        set_disposition()
    pool = ProcessPoolExecutor(2)
    first = pool.submit(os.getpid).result(timeout=30)
    workers = dict(pool._processes)
    if when == "after":
        set_disposition()
    error = None
    if crash:
        try:
            pool.submit(os._exit, 3).result(timeout=30)
        except BrokenProcessPool as exc:
            error = {"type": type(exc).__name__, "exitcode": exc.exitcode}
    else:
        assert pool.submit(abs, -5).result(timeout=30) == 5
    pool.shutdown(wait=True)
    if disposition == "waitpid":
        reaper.join(30)
        assert not reaper.is_alive(), "the foreign waitpid(-1) is still waiting"

    def zombie(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                state = [l for l in f if l.startswith("State:")][0]
        except FileNotFoundError:
            state = "gone"
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return False  # not our child any more: reaped
        return "still a child: " + state

    print(json.dumps({
        "first": first,
        "pids": sorted(workers),
        "exitcodes": {str(pid): p.exitcode for pid, p in workers.items()},
        "alive": [pid for pid, p in workers.items() if p.is_alive()],
        "zombies": {str(pid): zombie(pid) for pid in workers if zombie(pid)},
        "error": error,
        "broken": bool(pool._broken),
    }))
""")


class SigchldDispositionTests(unittest.TestCase):
    def run_case(self, disposition, when="after", crash=False):
        rc, out, err = run_child(["-c", SCRIPT, disposition, when, "crash" if crash else "clean"],
                                 timeout=60)
        self.assertEqual(rc, 0, err)
        report = json.loads(out.strip().splitlines()[-1])
        self.assertIn(report["first"], report["pids"])
        self.assertEqual(report["alive"], [], report)
        self.assertEqual(report["zombies"], {}, report)
        for pid, code in report["exitcodes"].items():
            self.assertIsNotNone(code, "worker %s has no exitcode: %s" % (pid, report))
        return report

    def check_clean(self, report):
        self.assertFalse(report["broken"])
        # Stopped workers exit with 0; under SIG_IGN the status is lost and reads 0, as
        # subprocess reports it.
        self.assertEqual(set(report["exitcodes"].values()), {0}, report)

    def test_python_handler_set_after_the_first_worker(self):
        self.check_clean(self.run_case("handler"))

    def test_sig_dfl_set_after_the_first_worker(self):
        self.check_clean(self.run_case("dfl"))

    def test_sig_ign_set_after_the_first_worker(self):
        self.check_clean(self.run_case("ign"))

    def test_python_handler_set_before_the_pool(self):
        self.check_clean(self.run_case("handler", when="before"))

    def test_sig_ign_set_before_the_pool(self):
        self.check_clean(self.run_case("ign", when="before"))

    def test_foreign_waitpid_racing_the_pool(self):
        # Whoever reaps a worker first, shutdown returns and its exitcode is defined (0: the
        # worker's own status, or the lost one, read as subprocess reads it).
        self.check_clean(self.run_case("waitpid"))

    def test_crash_under_a_python_handler_reports_the_exit_code(self):
        report = self.run_case("handler", crash=True)
        self.assertEqual(report["error"], {"type": "BrokenProcessPool", "exitcode": 3})
        self.assertTrue(report["broken"])

    def test_crash_under_sig_ign_breaks_the_pool_with_an_unknown_exit_code(self):
        # The kernel reaps the worker itself: its status is lost, the pool still breaks at once.
        report = self.run_case("ign", crash=True)
        self.assertEqual(report["error"], {"type": "BrokenProcessPool", "exitcode": None})
        self.assertTrue(report["broken"])


if __name__ == "__main__":
    unittest.main()
